//! The bytecode layer (being written).
