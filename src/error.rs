//! Errors and findings: every one says what is wrong, at which byte offset, and where in the file.

use std::fmt;

/// Where something is inside a file: `raw_code.children[3].relocs[2]`, `objects[4][1]`, ...
///
/// Kept as a list of segments while decoding (push and pop are cheap) and turned into text only when
/// an error or an irregularity is reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<Segment>);

/// One step of a [`Path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A named part: `header`, `qstrs`, `objects`, `raw_code`, `fun_data`, `relocs`, ...
    Field(&'static str),
    /// An index into the list named before it.
    Index(usize),
    /// A child raw code: `.children[i]`.
    Child(usize),
}

impl Path {
    /// The path of `segment` alone, with room to go a few levels down without reallocating (for
    /// the walks over a module's raw codes, which push and pop as they go).
    pub fn starting_at(segment: Segment) -> Path {
        let mut path = Path(Vec::with_capacity(16));
        path.push(segment);
        path
    }
    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }
    pub fn pop(&mut self) {
        self.0.pop();
    }
    /// This path with one more segment.
    pub fn with(&self, segment: Segment) -> Path {
        let mut p = self.clone();
        p.push(segment);
        p
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Segment::Field(name) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::Child(i) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    write!(f, "children[{i}]")?;
                }
            }
            first = false;
        }
        if first {
            f.write_str("file")?;
        }
        Ok(())
    }
}

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The first byte is not `M` (or `C` for CircuitPython): this is not a .mpy file.
    NotMpy { magic: u8 },
    /// A .mpy file of another format version (or CircuitPython's lineage), recognised from its header.
    UnsupportedVersion { magic: u8, version: u8 },
    /// The input ends inside a field.
    UnexpectedEnd { what: &'static str },
    /// A length field asks for more bytes than are left.
    LengthExceedsInput { what: &'static str, len: u64, left: usize },
    /// A count field promises more entries than the bytes left could hold (each takes at least one).
    CountExceedsInput { what: &'static str, count: u64, left: usize },
    /// A varuint whose value does not fit 64 bits, or that is padded beyond any reason.
    VarUintOverflow { what: &'static str },
    /// An object-table tag outside 0..=10.
    UnknownObjectTag { tag: u8 },
    /// Nesting deeper than the limit in [`crate::limits`].
    TooDeep { what: &'static str, limit: usize },
    /// Strict mode: something MicroPython accepts but the encoder would not reproduce.
    Irregular(IrregularityKind),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::NotMpy { magic } => {
                write!(f, "not a .mpy file (first byte {magic:#04x}, expected 'M')")
            }
            ErrorKind::UnsupportedVersion { magic, version } => {
                f.write_str(&crate::header::describe_foreign_version(*magic, *version))
            }
            ErrorKind::UnexpectedEnd { what } => write!(f, "file ends inside {what}"),
            ErrorKind::LengthExceedsInput { what, len, left } => {
                write!(f, "{what} length {len} exceeds the {left} bytes left")
            }
            ErrorKind::CountExceedsInput { what, count, left } => {
                write!(f, "{what} count {count} exceeds the {left} bytes left")
            }
            ErrorKind::VarUintOverflow { what } => write!(f, "{what} does not fit in 64 bits"),
            ErrorKind::UnknownObjectTag { tag } => {
                write!(f, "unknown object tag {tag} (known tags are 0..=10)")
            }
            ErrorKind::TooDeep { what, limit } => {
                write!(f, "{what} nested deeper than {limit} levels")
            }
            ErrorKind::Irregular(kind) => write!(f, "{kind} (strict mode)"),
        }
    }
}

/// A decoding error: what went wrong, the byte offset in the input, and the path inside the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub offset: usize,
    pub path: Path,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (at offset {:#x})", self.path, self.kind, self.offset)
    }
}

impl std::error::Error for Error {}

/// Something MicroPython's loader accepts but that the canonical encoder does not reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IrregularityKind {
    /// A varuint padded with leading `0x80` bytes.
    NonMinimalVarUint { what: &'static str },
    /// Bytes after the outer raw code (the loader never reads them).
    TrailingBytes { count: usize },
    /// The has-children bit is set but the child count is 0.
    EmptyChildren,
    /// A string, bytes or qstr terminator that is not NUL (the loader skips it unread).
    NonNulTerminator { what: &'static str, found: u8 },
}

impl fmt::Display for IrregularityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IrregularityKind::NonMinimalVarUint { what } => {
                write!(f, "{what} is a varuint padded with leading 0x80 bytes")
            }
            IrregularityKind::TrailingBytes { count } => {
                write!(f, "{count} bytes follow the outer raw code")
            }
            IrregularityKind::EmptyChildren => f.write_str("has-children bit set with a child count of 0"),
            IrregularityKind::NonNulTerminator { what, found } => {
                write!(f, "{what} terminator is {found:#04x}, not NUL")
            }
        }
    }
}

/// An irregularity with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Irregularity {
    pub kind: IrregularityKind,
    pub offset: usize,
    pub path: Path,
}

impl fmt::Display for Irregularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (at offset {:#x})", self.path, self.kind, self.offset)
    }
}

/// Why a model could not be encoded (a value the format cannot represent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    pub path: Path,
    pub message: String,
}

impl EncodeError {
    /// An error about the part being encoded; each caller on the way out puts its own segment in
    /// front ([`EncodeError::within`]), so the encoder keeps no path while nothing fails.
    pub(crate) fn here(message: impl Into<String>) -> Self {
        EncodeError { path: Path::default(), message: message.into() }
    }

    /// This error, inside `segment` of the caller's part.
    pub(crate) fn within(mut self, segment: Segment) -> Self {
        self.path.0.insert(0, segment);
        self
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for EncodeError {}

/// The low-level failure of a nom primitive, before the decoder adds what, where and the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// The input ended.
    Eof,
    /// A varuint too large for 64 bits.
    Overflow,
}

/// nom's error type inside this crate: the failure and how many input bytes were left at that
/// point (the decoder turns that into an absolute offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawError {
    pub remaining: usize,
    pub fail: Fail,
}

impl RawError {
    pub fn new(input: &[u8], fail: Fail) -> Self {
        RawError { remaining: input.len(), fail }
    }
}

impl<'a> nom::error::ParseError<&'a [u8]> for RawError {
    fn from_error_kind(input: &'a [u8], _kind: nom::error::ErrorKind) -> Self {
        // On complete input every primitive used here (take, u8, take_till) fails only at the end.
        RawError::new(input, Fail::Eof)
    }
    fn append(_input: &'a [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}
