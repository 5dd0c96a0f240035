//! The injection detector's vocabulary: its families and their weights, word lists,
//! phrase patterns, markers (see the `injection` module for what they mean). `mod.rs`
//! keeps this file out of rustfmt's reach so that the lists stay compact and reviewable.

/// A family of injection signals. Ordered by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    EncodingTrick,
    InstructionOverride,
    /// The learned model (`injection_model.rs`), not a pattern: its contribution varies.
    Learned,
    PromptLeak,
    RoleImpersonation,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::EncodingTrick,
        Family::InstructionOverride,
        Family::Learned,
        Family::PromptLeak,
        Family::RoleImpersonation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::EncodingTrick => "encoding_trick",
            Family::InstructionOverride => "instruction_override",
            Family::Learned => "learned",
            Family::PromptLeak => "prompt_leak",
            Family::RoleImpersonation => "role_impersonation",
        }
    }

    /// The family's contribution when one of its signals matched (for `learned`, the
    /// least it contributes when it contributes at all; it reaches 60 and 90 higher up).
    pub fn weight(self) -> u8 {
        match self {
            Family::Learned => 45,
            Family::InstructionOverride => 60,
            Family::PromptLeak => 50,
            Family::RoleImpersonation => 45,
            Family::EncodingTrick => 30,
        }
    }
}

pub(super) struct Step {
    /// Arbitrary words allowed between the previous step's word and this one.
    pub(super) gap: u8,
    pub(super) words: &'static [&'static str],
}

const fn s(gap: u8, words: &'static [&'static str]) -> Step {
    Step { gap, words }
}

pub(super) struct Pattern {
    pub(super) name: &'static str,
    pub(super) family: Family,
    /// A negator just before the first word cancels the match.
    pub(super) negatable: bool,
    /// A reference to the speaker's own instructions cancels the match.
    pub(super) self_ref: bool,
    pub(super) steps: &'static [Step],
}

use Family::{EncodingTrick as Enc, InstructionOverride as Io, PromptLeak as Pl, RoleImpersonation as Ri};

pub(super) const OVERRIDE_VERBS: &[&str] = &[
    "ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "skip",
    "override", "overriding", "overrides", "overwrite", "bypass", "neglect", "discard",
    "abandon", "overlook", "dismiss", "erase", "cancel", "cancels", "nullify", "scrap", "ditch",
    "supersede", "supersedes", "invalidate", "invalidates", "void", "voids", "omit", "forgo",
    "forego",
];
pub(super) const QUALIFIERS: &[&str] = &[
    "previous", "previously", "prior", "above", "earlier", "preceding", "former", "foregoing",
    "initial", "original", "old", "older", "existing", "system", "developer", "default",
    "given", "provided", "preset", "hidden", "upstream", "everything",
];
pub(super) const STRONG_OBJECTS: &[&str] = &[
    "instructions", "instruction", "directives", "directive", "programming", "prompt",
    "prompts", "guidelines", "guardrails", "rules", "constraints", "restrictions", "commands",
    "orders", "policies",
];
pub(super) const OBJECTS: &[&str] = &[
    "instructions", "instruction", "directions", "directives", "directive", "guidelines",
    "guideline", "rules", "rule", "prompt", "prompts", "commands", "command", "context",
    "constraints", "restrictions", "guardrails", "policies", "programming", "orders",
    "training", "guidance",
];
pub(super) const DETERMINERS: &[&str] = &["all", "any", "your", "every"];
pub(super) const NEGATORS: &[&str] = &[
    "not", "dont", "never", "cannot", "cant", "wont", "shouldnt", "mustnt", "doesnt", "didnt",
    "nor", "avoid",
];
pub(super) const STOP_FOLLOWING: &[&str] = &["not", "dont", "never", "stop", "quit", "cease", "longer"];
pub(super) const FOLLOW: &[&str] = &[
    "follow", "following", "obey", "obeying", "adhere", "respect", "comply", "heed",
];
pub(super) const FOLLOW_QUALIFIERS: &[&str] = &[
    "previous", "prior", "above", "system", "original", "initial", "your", "openai",
    "anthropic", "any", "safety", "earlier", "developer",
];
pub(super) const LIMITS: &[&str] = &[
    "restrictions", "restriction", "limits", "limitations", "limitation", "filters", "filter",
    "filtering", "rules", "guidelines", "censorship", "boundaries", "ethics", "morals",
    "morality", "constraints", "policies", "policy", "guardrails", "safeguards", "safety",
    "moderation", "restraints",
];
pub(super) const UNBOUND: &[&str] = &[
    "dan", "unrestricted", "uncensored", "unfiltered", "jailbroken", "evil", "liberated",
    "unbound", "unlimited", "unchained", "freed", "rogue", "devmode", "without", "amoral",
    "immoral", "unethical", "lawless", "limitless", "unshackled", "untethered", "unaligned",
];
pub(super) const MODE_WORDS: &[&str] = &[
    "developer", "dev", "god", "jailbreak", "jailbroken", "dan", "unrestricted", "evil", "sudo",
    "unfiltered", "uncensored", "opposite", "chaos", "devmode",
];
pub(super) const ASSISTANT_NAMES: &[&str] = &[
    "you", "youre", "chatgpt", "claude", "gpt", "assistant", "ai", "model", "llm", "bot",
    "gemini", "llama",
];
pub(super) const LEAK_VERBS: &[&str] = &[
    "reveal", "print", "repeat", "show", "display", "output", "tell", "give", "share", "disclose",
    "leak", "dump", "recite", "echo", "list", "spell", "provide", "expose", "return", "paste",
    "copy", "divulge", "state", "type", "quote",
];
pub(super) const LEAK_OBJECTS: &[&str] = &[
    "prompt", "prompts", "instructions", "instruction", "directives", "preprompt",
    "configuration", "programming", "system", "initialization", "context",
];
pub(super) const SECRET_QUALIFIERS: &[&str] = &[
    "system", "initial", "original", "hidden", "secret", "developer", "pre", "confidential",
    "internal", "starting", "first",
];
pub(super) const ABOVE_THINGS: &[&str] = &[
    "text", "words", "everything", "content", "contents", "instructions", "prompt",
    "conversation", "initialization", "all",
];
pub(super) const ABOVE: &[&str] = &["above", "before", "preceding"];

pub(super) const PATTERNS: &[Pattern] = &[
    // instruction_override
    Pattern { name: "ignore_previous_instructions", family: Io, negatable: true, self_ref: true, steps: &[
        s(0, OVERRIDE_VERBS),
        s(4, QUALIFIERS),
        s(2, OBJECTS),
    ] },
    // The same signal as above, phrased without a qualifier.
    Pattern { name: "ignore_previous_instructions", family: Io, negatable: true, self_ref: true, steps: &[
        s(0, OVERRIDE_VERBS),
        s(1, DETERMINERS),
        s(2, STRONG_OBJECTS),
    ] },
    // "ignore the instructions above", "disregard the rules given earlier".
    Pattern { name: "ignore_previous_instructions", family: Io, negatable: true, self_ref: true, steps: &[
        s(0, OVERRIDE_VERBS),
        s(3, OBJECTS),
        s(1, &["above", "before", "earlier", "previously", "given", "provided", "preceding"]),
    ] },
    Pattern { name: "ignore_your_task", family: Io, negatable: true, self_ref: true, steps: &[
        s(0, OVERRIDE_VERBS),
        s(1, &["your"]),
        s(2, &["task", "tasks", "role", "persona", "mission", "goal", "objective", "assignment",
            "purpose", "identity"]),
    ] },
    Pattern { name: "ignore_what_the_developer_said", family: Io, negatable: true, self_ref: false, steps: &[
        s(0, OVERRIDE_VERBS),
        s(3, &["developer", "developers", "system", "operator", "creators", "openai",
            "anthropic", "administrator"]),
        s(2, &["said", "says", "told", "wrote", "instructed", "wants", "instructions", "rules",
            "prompt", "guidelines"]),
    ] },
    Pattern { name: "pay_no_attention", family: Io, negatable: false, self_ref: true, steps: &[
        s(0, &["pay"]),
        s(0, &["no"]),
        s(0, &["attention", "heed", "mind"]),
        s(4, &["instructions", "directions", "guidance", "rules", "guidelines", "directives",
            "prompt", "previous", "prior", "earlier", "above"]),
    ] },
    Pattern { name: "set_aside_instructions", family: Io, negatable: true, self_ref: true, steps: &[
        s(0, &["set", "put", "push", "lay", "cast", "toss"]),
        s(0, &["aside"]),
        s(5, &["instructions", "guidance", "rules", "guidelines", "directives", "prompt",
            "programming", "previous", "prior", "earlier", "above"]),
    ] },
    Pattern { name: "ignore_the_above_and", family: Io, negatable: true, self_ref: true, steps: &[
        s(0, &["ignore", "disregard", "forget"]),
        s(1, &["above", "everything", "previous", "prior", "preceding"]),
        s(0, &["and", "then"]),
        s(3, &["say", "print", "instead", "output", "write", "respond", "tell", "reply",
            "translate", "do", "just", "only", "answer"]),
    ] },
    Pattern { name: "forget_everything", family: Io, negatable: true, self_ref: true, steps: &[
        s(0, &["forget", "ignore", "disregard", "erase"]),
        s(1, &["everything", "anything"]),
        s(4, &["above", "before", "previously", "prior", "earlier", "told", "taught", "learned",
            "know", "programmed", "trained"]),
    ] },
    Pattern { name: "stop_following_instructions", family: Io, negatable: false, self_ref: true, steps: &[
        s(0, STOP_FOLLOWING),
        s(0, FOLLOW),
        s(3, FOLLOW_QUALIFIERS),
        s(2, STRONG_OBJECTS),
    ] },
    Pattern { name: "your_new_task", family: Io, negatable: true, self_ref: false, steps: &[
        s(0, &["your"]),
        s(0, &["new", "real", "true", "actual", "updated", "only"]),
        s(0, &["instructions", "task", "role", "goal", "objective", "purpose", "directive",
            "mission", "prompt"]),
        s(1, &["is", "are"]),
    ] },
    Pattern { name: "previous_instructions_void", family: Io, negatable: false, self_ref: true, steps: &[
        s(0, &["previous", "above", "prior", "earlier", "original", "old", "system", "your"]),
        s(1, &["instructions", "prompt", "rules", "directives", "guidelines", "restrictions",
            "filters", "policies"]),
        s(2, &["void", "invalid", "cancelled", "canceled", "revoked", "obsolete", "fake",
            "null", "overridden", "superseded", "rescinded", "suspended", "lifted", "disabled",
            "deactivated", "removed", "waived"]),
    ] },
    // role_impersonation
    Pattern { name: "you_are_now_unrestricted", family: Ri, negatable: false, self_ref: false, steps: &[
        s(0, &["you", "youre"]),
        s(1, &["now", "henceforth"]),
        s(4, UNBOUND),
    ] },
    Pattern { name: "you_are_now_unrestricted", family: Ri, negatable: false, self_ref: false, steps: &[
        s(0, &["you", "youre"]),
        s(1, &["now", "henceforth"]),
        s(5, &["no", "without", "zero"]),
        s(2, LIMITS),
    ] },
    Pattern { name: "ai_without_restrictions", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["as", "are", "youre", "be", "become", "being"]),
        s(2, &["ai", "assistant", "model", "chatbot", "bot", "llm", "gpt", "version"]),
        s(2, &["without", "no", "zero"]),
        s(2, LIMITS),
    ] },
    Pattern { name: "i_am_your_developer", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["i", "im"]),
        s(1, &["your"]),
        s(0, &["developer", "developers", "creator", "creators", "admin", "administrator",
            "owner", "programmer", "maker", "operator"]),
    ] },
    Pattern { name: "developer_override", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["developer", "admin", "administrator", "system", "emergency", "sudo", "root"]),
        s(0, &["override", "overrides"]),
    ] },
    Pattern { name: "disable_all_safety", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["skip", "disable", "bypass", "ignore", "turn", "deactivate", "suspend",
            "circumvent", "remove", "lift", "drop"]),
        s(2, &["all", "any", "every", "your"]),
        s(2, &["safety", "content", "ethical", "moral", "ethics"]),
        s(1, &["checks", "filters", "filter", "filtering", "guidelines", "restrictions",
            "protocols", "guardrails", "policies", "policy", "measures", "rules"]),
    ] },
    Pattern { name: "you_are_no_longer_bound", family: Ri, negatable: false, self_ref: false, steps: &[
        s(0, &["you", "youre"]),
        s(2, &["no"]),
        s(0, &["longer"]),
        s(3, &["bound", "restricted", "limited", "constrained", "chatgpt", "claude", "gpt",
            "assistant", "ai", "required", "subject", "obligated", "governed", "censored",
            "filtered"]),
    ] },
    Pattern { name: "act_without_restrictions", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["act", "acts", "acting", "pretend", "pretending", "roleplay", "behave",
            "behaves", "simulate", "respond", "responds", "answer", "answers", "reply",
            "replies", "operate", "operates", "speak", "speaks", "talk", "talks"]),
        s(6, &["no", "without", "zero", "ignoring", "bypassing", "unrestricted", "unfiltered",
            "uncensored"]),
        s(3, LIMITS),
    ] },
    Pattern { name: "you_have_no_rules", family: Ri, negatable: false, self_ref: false, steps: &[
        s(0, &["you"]),
        s(2, &["have", "had", "got", "possess"]),
        s(1, &["no", "zero"]),
        s(3, LIMITS),
    ] },
    Pattern { name: "developer_mode", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, ASSISTANT_NAMES),
        s(3, MODE_WORDS),
        s(0, &["mode"]),
    ] },
    Pattern { name: "jailbreak_mode", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["jailbreak", "jailbroken", "dan", "unfiltered", "uncensored", "unrestricted",
            "evil", "amoral"]),
        s(0, &["mode"]),
    ] },
    Pattern { name: "do_anything_now", family: Ri, negatable: false, self_ref: false, steps: &[
        s(0, &["do"]),
        s(0, &["anything"]),
        s(0, &["now"]),
    ] },
    Pattern { name: "act_as_dan", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["act", "acting", "pretend", "roleplay", "become", "are", "youre"]),
        s(2, &["dan"]),
    ] },
    Pattern { name: "been_jailbroken", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["been", "successfully", "now", "are", "is", "youre"]),
        s(1, &["jailbroken", "unlocked", "freed", "liberated"]),
    ] },
    Pattern { name: "pretend_unrestricted_ai", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["pretend", "act", "roleplay", "behave", "become", "simulate", "imagine", "you"]),
        s(6, &["unrestricted", "uncensored", "unfiltered", "jailbroken", "amoral", "unethical",
            "immoral", "lawless", "rogue", "unaligned", "evil"]),
        s(2, &["ai", "assistant", "model", "chatbot", "bot", "version", "llm", "entity",
            "persona", "system", "gpt"]),
    ] },
    Pattern { name: "disable_your_safety", family: Ri, negatable: true, self_ref: false, steps: &[
        s(0, &["disable", "bypass", "override", "ignore", "remove", "deactivate", "turn",
            "lift", "drop", "suspend", "circumvent", "break", "escape", "abandon"]),
        s(2, &["your"]),
        s(3, LIMITS),
    ] },
    // prompt_leak
    Pattern { name: "reveal_your_instructions", family: Pl, negatable: true, self_ref: false, steps: &[
        s(0, LEAK_VERBS),
        s(5, &["your"]),
        s(2, LEAK_OBJECTS),
    ] },
    Pattern { name: "reveal_the_system_prompt", family: Pl, negatable: true, self_ref: false, steps: &[
        s(0, LEAK_VERBS),
        s(3, &["the", "this", "that", "its"]),
        s(1, SECRET_QUALIFIERS),
        s(0, &["prompt", "prompts", "instructions", "message", "directives"]),
    ] },
    Pattern { name: "repeat_text_above", family: Pl, negatable: true, self_ref: false, steps: &[
        s(0, LEAK_VERBS),
        s(4, ABOVE_THINGS),
        s(1, ABOVE),
    ] },
    Pattern { name: "repeat_text_above", family: Pl, negatable: true, self_ref: false, steps: &[
        s(0, LEAK_VERBS),
        s(3, &["above", "preceding", "initial"]),
        s(0, &["text", "words", "content", "instructions", "prompt", "directives"]),
    ] },
    Pattern { name: "what_were_you_told", family: Pl, negatable: false, self_ref: false, steps: &[
        s(0, &["what", "which"]),
        s(2, &["were", "was", "have", "did"]),
        s(0, &["you"]),
        s(1, &["told", "instructed", "programmed", "given", "asked"]),
    ] },
    Pattern { name: "what_is_your_system_prompt", family: Pl, negatable: false, self_ref: false, steps: &[
        s(0, &["what", "which"]),
        s(2, &["are", "is", "were", "was", "does", "do", "did"]),
        s(0, &["your"]),
        s(2, &["instructions", "prompt", "directives", "programming", "preprompt", "guidelines"]),
    ] },
    // encoding_trick
    Pattern { name: "decode_and_follow", family: Enc, negatable: true, self_ref: false, steps: &[
        s(0, &["decode", "decoded", "decoding", "base64", "rot13", "hex", "reverse", "reversed"]),
        s(6, &["follow", "execute", "obey", "comply", "perform"]),
    ] },
];

/// Signals that are not word phrases, after the phrase patterns in the signal numbering.
pub(super) const EXTRA_SIGNALS: &[(&str, Family)] = &[
    ("chat_template_marker", Ri),
    ("system_turn_line", Ri),
    ("new_instructions_header", Io),
    ("base64_text", Enc),
    ("hex_text", Enc),
    ("spaced_letters", Enc),
];
pub(super) const TEMPLATE_MARKERS: &[&str] = &[
    "<|im_start|>", "<|im_end|>", "<|im_sep|>", "<|system|>", "<|user|>", "<|assistant|>",
    "<|endoftext|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|begin_of_text|>", "[inst]", "[/inst]", "<<sys>>", "<</sys>>", "<start_of_turn>",
    "<end_of_turn>", "### system:", "### instruction:", "### instructions:", "###system:",
];
pub(super) const NEW_INSTRUCTIONS: &[&str] = &[
    "new instructions:", "new instruction:", "updated instructions:", "new system prompt:",
    "revised instructions:", "real instructions:", "actual instructions:", "new rules:",
    "override instructions:", "important new instructions",
];
pub(super) const SYSTEM_LINE_STARTS: &[&str] = &[
    "system:", "system prompt:", "system message:", "system instruction:",
    "system instructions:", "system override:", "override:", "[system]", "(system)", "<system>",
    "{system}",
];
/// Words that make a `system:` line or a "new instructions:" header an instruction to the
/// model rather than, say, "System: macOS 14".
pub(super) const SYSTEM_LINE_CUES: &[&str] = &[
    "you", "your", "youre", "assistant", "ignore", "instructions", "instruction", "respond",
    "reply", "answer", "must", "always", "never", "override", "mode", "new", "now", "act",
    "reveal", "disregard", "forget", "obey", "follow", "allowed", "ai", "output", "print",
    "say", "tell", "send", "disclose", "comply",
];
/// Words that, spelled out letter by letter, make spacing a trick rather than style.
pub(super) const SPACED_TRIGGERS: &[&str] = &[
    "ignore", "disregard", "instruction", "prompt", "jailbreak", "forget", "reveal", "pretend",
    "override", "bypass", "restriction", "developer", "previous", "system", "dan",
];

pub(super) const SELF_REF: &[&str] = &["my", "our", "i", "we", "me", "us", "myself"];
pub(super) const FIRST_PERSON: &[&str] = &["i", "we"];
pub(super) const SELF_VERBS: &[&str] = &[
    "gave", "sent", "wrote", "provided", "mentioned", "said", "made", "listed", "shared",
    "posted", "typed", "asked", "had", "added", "put", "specified", "just", "previously",
    "earlier",
];
