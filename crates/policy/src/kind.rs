//! The kinds of PII and secret a detector reports, and sets of them: the vocabulary
//! obligations name, so bundle validation knows it without the detectors.
//!
//! National identifiers are one kind per scheme (`us_ssn`, `fr_nir`, …, see
//! [`Kind::NATIONAL_IDS`]); `national_id` names them all. No detector reports
//! `national_id` itself: in a [`KindSet`] it stands for every national-id kind (so
//! `@obligation_redact_input("national_id")` redacts an `fr_nir`), and the `pii_kinds` a
//! policy sees list it beside the specific kind whenever one is found.

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
    /// The group of every national-id kind below (never a finding's kind).
    NationalId,
    IpAddress,
    // National identifiers, one kind per scheme.
    UsSsn,
    UkNino,
    FrNir,
    ItCodiceFiscale,
    NlBsn,
    BrCpf,
    PlPesel,
    SePersonnummer,
    InAadhaar,
    EsDni,
    DeTaxId,
    CaSin,
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
            Kind::UsSsn => "us_ssn",
            Kind::UkNino => "uk_nino",
            Kind::FrNir => "fr_nir",
            Kind::ItCodiceFiscale => "it_codice_fiscale",
            Kind::NlBsn => "nl_bsn",
            Kind::BrCpf => "br_cpf",
            Kind::PlPesel => "pl_pesel",
            Kind::SePersonnummer => "se_personnummer",
            Kind::InAadhaar => "in_aadhaar",
            Kind::EsDni => "es_dni",
            Kind::DeTaxId => "de_tax_id",
            Kind::CaSin => "ca_sin",
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
        ) && !self.is_national_id()
    }

    /// Whether the kind is `national_id` or one of the national identifiers it groups.
    pub fn is_national_id(self) -> bool {
        self == Kind::NationalId || Kind::NATIONAL_IDS.contains(&self)
    }

    /// Which kind wins when two findings overlap (lower wins).
    pub fn priority(self) -> u8 {
        match self {
            Kind::Email => 0,
            Kind::Iban => 1,
            Kind::CreditCard => 2,
            Kind::NationalId
            | Kind::UsSsn
            | Kind::UkNino
            | Kind::FrNir
            | Kind::ItCodiceFiscale
            | Kind::NlBsn
            | Kind::BrCpf
            | Kind::PlPesel
            | Kind::SePersonnummer
            | Kind::InAadhaar
            | Kind::EsDni
            | Kind::DeTaxId
            | Kind::CaSin => 3,
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
    pub const ALL: [Kind; 27] = [
        Kind::Email,
        Kind::Phone,
        Kind::CreditCard,
        Kind::Iban,
        Kind::NationalId,
        Kind::IpAddress,
        Kind::UsSsn,
        Kind::UkNino,
        Kind::FrNir,
        Kind::ItCodiceFiscale,
        Kind::NlBsn,
        Kind::BrCpf,
        Kind::PlPesel,
        Kind::SePersonnummer,
        Kind::InAadhaar,
        Kind::EsDni,
        Kind::DeTaxId,
        Kind::CaSin,
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

    /// The national identifiers `national_id` groups.
    pub const NATIONAL_IDS: [Kind; 12] = [
        Kind::UsSsn,
        Kind::UkNino,
        Kind::FrNir,
        Kind::ItCodiceFiscale,
        Kind::NlBsn,
        Kind::BrCpf,
        Kind::PlPesel,
        Kind::SePersonnummer,
        Kind::InAadhaar,
        Kind::EsDni,
        Kind::DeTaxId,
        Kind::CaSin,
    ];

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    fn bit(self) -> u64 {
        1 << (self as u64)
    }
}

/// A set of kinds, as a bitset: cheap to copy, merge and test per finding.
/// Serialises as the sorted list of kind names, `national_id` standing for the national
/// ids it implies.
///
/// `national_id` in a set is the group: the set [`contains`](KindSet::contains) every
/// national-id kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u64);

impl KindSet {
    pub const EMPTY: KindSet = KindSet(0);

    /// Parses a comma-separated list of kind names; `pii` and `secrets` stand for every
    /// kind of that group, `national_id` for every national identifier. Blank items are ignored; an unknown name is an error naming it.
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

    /// Whether `kind` is in the set, or is a national id and the set has `national_id`.
    pub fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0 || (kind.is_national_id() && self.0 & Kind::NationalId.bit() != 0)
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

    /// The kinds' names, sorted; under `national_id`, the national ids it implies are not
    /// listed.
    pub fn names(self) -> Vec<&'static str> {
        let group = self.0 & Kind::NationalId.bit() != 0;
        let mut names: Vec<&'static str> = self
            .iter()
            .filter(|kind| !group || *kind == Kind::NationalId || !kind.is_national_id())
            .map(Kind::name)
            .collect();
        names.sort_unstable();
        names
    }
}

impl Serialize for KindSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_name_and_bit() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i);
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
        }
        assert!(Kind::ALL.len() <= 64);
    }

    #[test]
    fn national_id_is_the_group_of_every_national_id_kind() {
        let set = KindSet::parse("email, national_id").unwrap();
        for kind in Kind::NATIONAL_IDS {
            assert!(set.contains(kind), "{kind:?}");
            assert!(!kind.is_secret());
            assert_eq!(kind.priority(), Kind::NationalId.priority());
        }
        assert!(!set.contains(Kind::Phone));
        assert_eq!(set.names(), ["email", "national_id"]);
        // A specific kind names only itself.
        let set = KindSet::parse("fr_nir,us_ssn").unwrap();
        assert!(set.contains(Kind::FrNir) && set.contains(Kind::UsSsn));
        assert!(!set.contains(Kind::NlBsn) && !set.contains(Kind::NationalId));
        assert_eq!(set.names(), ["fr_nir", "us_ssn"]);
        // A specific kind merged with the group is listed as the group.
        let merged = set.union(KindSet::parse("national_id").unwrap());
        assert_eq!(merged.names(), ["national_id"]);
        // `pii` lists the same names as before national ids had kinds of their own.
        assert_eq!(
            KindSet::parse("pii").unwrap().names(),
            [
                "credit_card",
                "email",
                "iban",
                "ip_address",
                "national_id",
                "phone"
            ]
        );
        assert!(!KindSet::parse("secrets").unwrap().contains(Kind::FrNir));
        assert!(KindSet::parse("pii").unwrap().has_pii());
        assert!(KindSet::parse("de_tax_id").unwrap().has_pii());
        assert!(KindSet::parse("national_ids").is_err());
    }
}
