pub mod dis;
pub mod dump;
pub mod info;
pub mod json;
pub mod merge;
pub mod roundtrip;
pub mod strip;
pub mod verify;
