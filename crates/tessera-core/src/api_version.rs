//! `Persona-Version`: the API versions a client may ask for. Every value of Persona's
//! `api-version` enum is accepted; 2025-12-08 is the default and the only shape Tessera serves
//! today. A shape kept for an older version would be chosen from [`ApiVersion`] at the edge, in
//! one place, never by a second code path per handler.

use crate::error::{Error, codes};

/// A version of the API, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ApiVersion {
    V2020_05_18,
    V2021_02_21,
    V2021_07_05,
    V2021_08_18,
    V2022_09_01,
    V2023_01_05,
    V2025_10_27,
    #[default]
    V2025_12_08,
}

impl ApiVersion {
    /// Every version, newest first (the order of Persona's enum).
    pub const ALL: [ApiVersion; 8] = [
        ApiVersion::V2025_12_08,
        ApiVersion::V2025_10_27,
        ApiVersion::V2023_01_05,
        ApiVersion::V2022_09_01,
        ApiVersion::V2021_08_18,
        ApiVersion::V2021_07_05,
        ApiVersion::V2021_02_21,
        ApiVersion::V2020_05_18,
    ];

    pub const LATEST: ApiVersion = ApiVersion::V2025_12_08;

    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2025_12_08 => "2025-12-08",
            ApiVersion::V2025_10_27 => "2025-10-27",
            ApiVersion::V2023_01_05 => "2023-01-05",
            ApiVersion::V2022_09_01 => "2022-09-01",
            ApiVersion::V2021_08_18 => "2021-08-18",
            ApiVersion::V2021_07_05 => "2021-07-05",
            ApiVersion::V2021_02_21 => "2021-02-21",
            ApiVersion::V2020_05_18 => "2020-05-18",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }

    /// The version a `Persona-Version` header asks for: absent means the latest; an unknown
    /// value is a 400 naming the header.
    pub fn from_header(value: Option<&[u8]>) -> Result<Self, Error> {
        let Some(raw) = value else {
            return Ok(Self::LATEST);
        };
        std::str::from_utf8(raw)
            .ok()
            .and_then(Self::parse)
            .ok_or_else(|| {
                Error::bad_request(
                    codes::INVALID_HEADER,
                    format!(
                        "Persona-Version is one of {}",
                        Self::ALL.map(Self::as_str).join(", ")
                    ),
                )
                .at_header("Persona-Version")
            })
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_persona_version_and_nothing_else() {
        for v in ApiVersion::ALL {
            assert_eq!(ApiVersion::parse(v.as_str()), Some(v));
            assert_eq!(
                ApiVersion::from_header(Some(v.as_str().as_bytes())).ok(),
                Some(v)
            );
        }
        assert_eq!(
            ApiVersion::from_header(None).ok(),
            Some(ApiVersion::V2025_12_08)
        );
        for bad in ["", "garbage", "1999-01-01", "2025-12-8"] {
            let e = ApiVersion::from_header(Some(bad.as_bytes())).err();
            assert_eq!(e.map(|e| e.status.code()), Some(400), "{bad}");
        }
        assert!(ApiVersion::from_header(Some(&[0xff, 0xfe])).is_err());
    }
}
