pub mod dis;
pub mod dump;
pub mod info;
pub mod json;
pub mod roundtrip;
pub mod verify;
