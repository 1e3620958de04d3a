//! The file header: magic, version, feature byte (sub-version, native arch, arch-flags bit) and
//! small-int bits, plus the optional arch-flags varuint of v1.27+ — and what the releases that load
//! such a header are.

use std::fmt;

use crate::decoder::{DResult, Decoder};
use crate::error::{EncodeError, ErrorKind, Segment};
use crate::varuint;

/// The only major format version this crate reads and writes.
pub const MPY_VERSION: u8 = 6;

/// Feature-byte bit 6: an arch-flags varuint follows the header (v1.27+).
const FEATURE_ARCH_FLAGS: u8 = 0x40;
/// Feature-byte bit 7: reserved, written as 0.
const FEATURE_RESERVED: u8 = 0x80;

/// A native architecture code (`MP_NATIVE_ARCH_*`), 4 bits of the feature byte. Unknown codes are
/// kept, not rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Arch(pub u8);

impl Arch {
    pub const NONE: Arch = Arch(0);
    pub const X86: Arch = Arch(1);
    pub const X64: Arch = Arch(2);
    pub const ARMV6: Arch = Arch(3);
    pub const ARMV6M: Arch = Arch(4);
    pub const ARMV7M: Arch = Arch(5);
    pub const ARMV7EM: Arch = Arch(6);
    pub const ARMV7EMSP: Arch = Arch(7);
    pub const ARMV7EMDP: Arch = Arch(8);
    pub const XTENSA: Arch = Arch(9);
    pub const XTENSAWIN: Arch = Arch(10);
    /// Added in v1.24.
    pub const RV32IMC: Arch = Arch(11);
    /// RV64IMC from v1.27 on; the same code meant the native debug emitter in v1.24–v1.26.
    pub const RV64IMC_OR_DEBUG: Arch = Arch(12);
    /// The native debug emitter from v1.27 on.
    pub const DEBUG: Arch = Arch(13);

    /// The `-march=` name, or `None` for an unknown code. Code 12 is named for v1.27+ (`rv64imc`).
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 14] = [
            "bytecode",
            "x86",
            "x64",
            "armv6",
            "armv6m",
            "armv7m",
            "armv7em",
            "armv7emsp",
            "armv7emdp",
            "xtensa",
            "xtensawin",
            "rv32imc",
            "rv64imc",
            "debug",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }

    /// Looks up a `-march=` name.
    pub fn from_name(name: &str) -> Option<Arch> {
        (0..14).map(Arch).find(|a| a.name() == Some(name))
    }

    /// The first release whose loader knows this code, and the last (if it was renumbered).
    pub fn known_in(self) -> Option<(Release, Option<Release>)> {
        match self.0 {
            0..=10 => Some((Release(1, 19), None)),
            11 => Some((Release(1, 24), None)),
            12 => Some((Release(1, 24), None)),
            13 => Some((Release(1, 27), None)),
            _ => None,
        }
    }

    /// ARM Thumb cores, where a host accepts any Thumb arch from ARMV6M up to its own.
    pub fn is_thumb(self) -> bool {
        (Arch::ARMV6M.0..=Arch::ARMV7EMDP.0).contains(&self.0)
    }

    /// Bytes in a machine word (relocations add whole words).
    pub fn word_size(self) -> Option<usize> {
        match self {
            Arch::X64 | Arch::RV64IMC_OR_DEBUG => Some(8),
            Arch(1..=11) => Some(4),
            _ => None,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.name()) {
            (12, _) => f.write_str("rv64imc (debug in v1.24-v1.26)"),
            (_, Some(name)) => f.write_str(name),
            (code, None) => write!(f, "unknown arch {code}"),
        }
    }
}

/// A MicroPython release, major.minor (`Release(1, 22)` is v1.22.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release(pub u8, pub u8);

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.0, self.1)
    }
}

/// The file header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Header {
    /// Feature-byte bits 1..0: the sub-version (6.0 … 6.3). Writers set it only for native code.
    pub sub_version: u8,
    /// Feature-byte bits 5..2: the native architecture, [`Arch::NONE`] for bytecode only.
    pub arch: Arch,
    /// The arch-flags varuint (feature bit 6), v1.27+: required RV32 extensions (ZBA = 1, ZCMP = 2).
    pub arch_flags: Option<u64>,
    /// Feature-byte bit 7, reserved; kept so that nothing read is lost.
    pub reserved_bit: bool,
    /// The number of bits in a small int the file needs (31 by default).
    pub small_int_bits: u8,
}

impl Header {
    /// The feature byte as written in the file.
    pub fn feature_byte(&self) -> u8 {
        self.sub_version
            | self.arch.0 << 2
            | if self.arch_flags.is_some() { FEATURE_ARCH_FLAGS } else { 0 }
            | if self.reserved_bit { FEATURE_RESERVED } else { 0 }
    }

    pub(crate) fn decode<'a>(d: &mut Decoder<'a>, i: &'a [u8]) -> DResult<'a, Header> {
        d.within(Segment::Field("header"), |d| {
            let start = i;
            let (i, magic) = d.byte(i, "magic")?;
            let (i, version) = d.byte(i, "version")?;
            if magic != b'M' && magic != b'C' {
                return Err(d.error(start, ErrorKind::NotMpy { magic }));
            }
            if magic != b'M' || version != MPY_VERSION {
                return Err(d.error(start, ErrorKind::UnsupportedVersion { magic, version }));
            }
            let (i, feature) = d.byte(i, "feature byte")?;
            let (i, small_int_bits) = d.byte(i, "small-int bits")?;
            let (i, arch_flags) = if feature & FEATURE_ARCH_FLAGS != 0 {
                let (i, flags) = d.varuint(i, "arch flags")?;
                (i, Some(flags))
            } else {
                (i, None)
            };
            let header = Header {
                sub_version: feature & 3,
                arch: Arch((feature >> 2) & 0x0f),
                arch_flags,
                reserved_bit: feature & FEATURE_RESERVED != 0,
                small_int_bits,
            };
            Ok((i, header))
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.sub_version > 3 || self.arch.0 > 0x0f {
            return Err(EncodeError::here(format!(
                "sub-version {} or arch code {} does not fit the feature byte",
                self.sub_version, self.arch.0
            ))
            .within(Segment::Field("header")));
        }
        out.extend_from_slice(&[b'M', MPY_VERSION, self.feature_byte(), self.small_int_bits]);
        if let Some(flags) = self.arch_flags {
            varuint::encode(flags, out);
        }
        Ok(())
    }

    /// True when the file carries native code (the arch is not NONE).
    pub fn is_native(&self) -> bool {
        self.arch != Arch::NONE
    }

    /// Which MicroPython releases can load this header, in a sentence, e.g.
    /// `bytecode only: any MicroPython v1.20 or later (v1.19 too)` or
    /// `native x64, 6.2: only MicroPython v1.22.x on x64`.
    pub fn loadable_by(&self) -> String {
        if !self.is_native() {
            let v119 = if self.sub_version == 0 && self.arch_flags.is_none() {
                " (v1.19 too)"
            } else {
                " (not v1.19, which needs the sub-version bits to be 0)"
            };
            return format!("bytecode only: any MicroPython v1.20 or later{v119}");
        }
        let Some((arch_first, _)) = self.arch.known_in() else {
            return format!(
                "native code for unknown arch code {}: no known release can load it",
                self.arch.0
            );
        };
        let flags = match self.arch_flags {
            Some(f) => format!(" with arch flags {f:#x}"),
            None => String::new(),
        };
        let what = format!("native {}, 6.{}{flags}", self.arch, self.sub_version);
        let releases = match self.sub_version {
            0 => "v1.19.x".to_string(),
            1 => "v1.20.x or v1.21.x".to_string(),
            2 => "v1.22.x".to_string(),
            _ => {
                let mut first = Release(1, 23).max(arch_first);
                if self.arch_flags.is_some() {
                    first = first.max(Release(1, 27));
                }
                format!("{first} or later")
            }
        };
        if arch_first > Release(1, 19) && self.sub_version != 3 {
            return format!(
                "{what}: no release can load it ({} appeared in {arch_first}, which reads 6.3)",
                self.arch
            );
        }
        if self.arch_flags.is_some() && self.sub_version != 3 {
            return format!("{what}: no release can load it (arch flags appeared in v1.27, which reads 6.3)");
        }
        let mut text = format!("{what}: only MicroPython {releases} on {}", self.arch);
        if self.small_int_bits > 31 {
            text.push_str(&format!(" (64-bit ports only: needs {}-bit small ints)", self.small_int_bits));
        }
        text
    }
}

/// Names the format of a .mpy header this crate does not read, with the releases that wrote it.
pub fn describe_foreign_version(magic: u8, version: u8) -> String {
    if magic == b'C' {
        return format!(
            "CircuitPython .mpy (magic 'C', version {version}) is a different format lineage; \
             this tool reads MicroPython format 6"
        );
    }
    let releases = match version {
        0 => "MicroPython v1.5.1 to v1.8.7",
        1 => "MicroPython v1.9 development builds",
        2 => "MicroPython v1.9 to v1.9.2",
        3 => "MicroPython v1.9.3 to v1.10",
        4 => "MicroPython v1.11",
        5 => "MicroPython v1.12 to v1.18",
        _ => "no known MicroPython release",
    };
    format!(
        ".mpy format version {version} (written by {releases}) is not supported; \
         this tool reads format 6 (MicroPython v1.19 and later)"
    )
}

/// A board to load a file on: a MicroPython release and, for native code, its architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub release: Release,
    /// `None`: the arch is not given (only bytecode-only files can be judged).
    pub arch: Option<Arch>,
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `1.22`, `v1.22.2:armv7emsp`, `1.27:rv32imc`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (version, arch) = match s.split_once(':') {
            Some((v, a)) => (v, Some(a)),
            None => (s, None),
        };
        let mut parts = version.trim_start_matches('v').split('.');
        let number = |p: Option<&str>| p.and_then(|p| p.parse::<u8>().ok());
        let (Some(major), Some(minor)) = (number(parts.next()), number(parts.next())) else {
            return Err(format!("{s:?}: expected VERSION[:ARCH], e.g. 1.22 or 1.22:armv7emsp"));
        };
        let arch = match arch {
            None => None,
            Some(name) => Some(Arch::from_name(name).filter(|a| *a != Arch::NONE).ok_or_else(|| {
                format!("{name:?} is not an arch (x86, x64, armv6, armv6m, armv7m, armv7em, armv7emsp, armv7emdp, xtensa, xtensawin, rv32imc, rv64imc, debug)")
            })?),
        };
        Ok(Target { release: Release(major, minor), arch })
    }
}

/// Why a target's loader refuses a file: the `ValueError` text it raises and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The loader's own message, e.g. `incompatible .mpy file`.
    pub loader_error: &'static str,
    pub reason: String,
}

impl Release {
    /// The sub-version this release's loader expects of native code, or `None` before format 6.
    pub fn sub_version(self) -> Option<u8> {
        match self {
            r if r < Release(1, 19) => None,
            r if r < Release(1, 20) => Some(0),
            r if r < Release(1, 22) => Some(1),
            r if r < Release(1, 23) => Some(2),
            _ => Some(3),
        }
    }
}

impl Header {
    /// Whether `target`'s loader accepts this header, following `mp_raw_code_load`'s checks in
    /// that release. `Ok(None)` means yes; `Ok(Some(note))` yes with a caveat (the arch was not
    /// given but matters).
    pub fn check_target(&self, target: &Target) -> Result<Option<String>, Refusal> {
        let file = "incompatible .mpy file";
        let refuse = |loader_error, reason: String| Err(Refusal { loader_error, reason });
        let r = target.release;
        let Some(target_sub) = r.sub_version() else {
            return refuse(file, format!("{r} reads .mpy format 5 or older, and this file is format 6"));
        };
        // Before v1.27 the feature byte's arch is not masked, so bit 6 (arch flags) makes the arch
        // code 16 or more: native code the loader cannot know.
        let arch_code = if r < Release(1, 27) { self.feature_byte() >> 2 } else { self.arch.0 };
        if arch_code != 0 && self.sub_version != target_sub {
            return refuse(
                file,
                format!(
                    "native code of sub-version 6.{} loads only on 6.{0} loaders; {r} reads 6.{target_sub}",
                    self.sub_version
                ),
            );
        }
        if r < Release(1, 20) && self.feature_byte() & 3 != 0 {
            return refuse(file, "v1.19 requires the low two feature bits to be 0".into());
        }
        let target_bits = match target.arch.and_then(Arch::word_size) {
            Some(8) => 63,
            _ => 31,
        };
        if self.small_int_bits > target_bits {
            return refuse(
                file,
                format!(
                    "the file needs {}-bit small ints; a {target_bits}-bit port has fewer",
                    self.small_int_bits
                ),
            );
        }
        if arch_code == 0 {
            return Ok(None);
        }
        if arch_code > 0x0f {
            return refuse(
                "incompatible .mpy arch",
                format!("{r} reads the arch-flags bit (v1.27+) as part of the arch code ({arch_code})"),
            );
        }
        let arch = Arch(arch_code);
        match arch.known_in() {
            Some((first, _)) if first <= r => {}
            _ => {
                return refuse(
                    "incompatible .mpy arch",
                    format!("{r} does not know native arch code {} ({arch})", arch.0),
                );
            }
        }
        let Some(board) = target.arch else {
            return Ok(Some(format!(
                "only if the board's arch is {arch}: give --target {}.{}:ARCH to check",
                r.0, r.1
            )));
        };
        let accepted = board == arch || (board.is_thumb() && arch.is_thumb() && arch.0 <= board.0);
        if !accepted {
            return refuse(
                "incompatible .mpy arch",
                format!("the file holds {arch} code and the board runs {board}"),
            );
        }
        if let Some(flags) = self.arch_flags
            && flags != 0
            && board != Arch::RV32IMC
        {
            return refuse(file, format!("arch flags {flags:#x} are defined only for rv32imc"));
        }
        Ok(None)
    }
}
