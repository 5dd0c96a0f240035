//! Decision case files: filled in by the CLI work.
