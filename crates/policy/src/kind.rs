//! The kinds of PII and secret a detector reports, and sets of them: the vocabulary
//! obligations name, so bundle validation knows it without the detectors.

use serde::{Serialize, Serializer};

/// What a [`Finding`] is. [`Kind::name`] is the string policies see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    // PII.
    Email,
    Phone,
    CreditCard,
    Iban,
    NationalId,
    IpAddress,
    // Secrets.
    OpenaiKey,
    AnthropicKey,
    AwsAccessKey,
    GithubToken,
    SlackToken,
    GoogleApiKey,
    Jwt,
    PrivateKey,
    HighEntropy,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::CreditCard => "credit_card",
            Kind::Iban => "iban",
            Kind::NationalId => "national_id",
            Kind::IpAddress => "ip_address",
            Kind::OpenaiKey => "openai_key",
            Kind::AnthropicKey => "anthropic_key",
            Kind::AwsAccessKey => "aws_access_key",
            Kind::GithubToken => "github_token",
            Kind::SlackToken => "slack_token",
            Kind::GoogleApiKey => "google_api_key",
            Kind::Jwt => "jwt",
            Kind::PrivateKey => "private_key",
            Kind::HighEntropy => "high_entropy",
        }
    }

    pub fn is_secret(self) -> bool {
        !matches!(
            self,
            Kind::Email
                | Kind::Phone
                | Kind::CreditCard
                | Kind::Iban
                | Kind::NationalId
                | Kind::IpAddress
        )
    }

    /// Which kind wins when two findings overlap (lower wins).
    pub fn priority(self) -> u8 {
        match self {
            Kind::Email => 0,
            Kind::Iban => 1,
            Kind::CreditCard => 2,
            Kind::NationalId => 3,
            Kind::IpAddress => 4,
            Kind::Phone => 5,
            Kind::PrivateKey => 0,
            Kind::Jwt => 1,
            Kind::AnthropicKey => 2,
            Kind::OpenaiKey => 3,
            Kind::GithubToken => 4,
            Kind::SlackToken => 5,
            Kind::AwsAccessKey => 6,
            Kind::GoogleApiKey => 7,
            Kind::HighEntropy => 8,
        }
    }
}

impl Kind {
    /// Every kind, PII first, in declaration order.
    pub const ALL: [Kind; 15] = [
        Kind::Email,
        Kind::Phone,
        Kind::CreditCard,
        Kind::Iban,
        Kind::NationalId,
        Kind::IpAddress,
        Kind::OpenaiKey,
        Kind::AnthropicKey,
        Kind::AwsAccessKey,
        Kind::GithubToken,
        Kind::SlackToken,
        Kind::GoogleApiKey,
        Kind::Jwt,
        Kind::PrivateKey,
        Kind::HighEntropy,
    ];

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of kinds, as a bitset: cheap to copy, merge and test per finding.
/// Serialises as the sorted list of kind names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u16);

impl KindSet {
    pub const EMPTY: KindSet = KindSet(0);

    /// Parses a comma-separated list of kind names; `pii` and `secrets` stand for every
    /// kind of that group. Blank items are ignored; an unknown name is an error naming it.
    pub fn parse(list: &str) -> Result<KindSet, String> {
        let mut set = KindSet::EMPTY;
        for item in list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            set = set.union(match item {
                "pii" => KindSet::of(Kind::ALL.into_iter().filter(|k| !k.is_secret())),
                "secrets" => KindSet::of(Kind::ALL.into_iter().filter(|k| k.is_secret())),
                name => match Kind::from_name(name) {
                    Some(kind) => KindSet::of([kind]),
                    None => return Err(format!("unknown detector kind `{name}`")),
                },
            });
        }
        Ok(set)
    }

    pub fn of(kinds: impl IntoIterator<Item = Kind>) -> KindSet {
        KindSet(kinds.into_iter().fold(0, |bits, kind| bits | kind.bit()))
    }

    pub fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: KindSet) -> KindSet {
        KindSet(self.0 | other.0)
    }

    pub fn difference(self, other: KindSet) -> KindSet {
        KindSet(self.0 & !other.0)
    }

    /// Whether any kind in the set is PII (and so needs the PII detectors to run).
    pub fn has_pii(self) -> bool {
        self.iter().any(|kind| !kind.is_secret())
    }

    /// Whether any kind in the set is a secret.
    pub fn has_secrets(self) -> bool {
        self.iter().any(Kind::is_secret)
    }

    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL
            .into_iter()
            .filter(move |kind| self.contains(*kind))
    }

    /// The kinds' names, sorted.
    pub fn names(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.iter().map(Kind::name).collect();
        names.sort_unstable();
        names
    }
}

impl Serialize for KindSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}
