//! Errors of parsing and executing templates, displayed exactly as Go words them.

/// Why a template could not be parsed or executed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A syntax error: `template: NAME:LINE: MESSAGE`.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        /// The name the text was parsed under (Helm: the file's path).
        name: String,
        /// 1-based line.
        line: usize,
        /// Go's message.
        message: String,
    },
    /// An execution error at a node:
    /// `template: NAME:LINE:COL: executing "TEMPLATE" at <CONTEXT>: MESSAGE`.
    #[error(
        "template: {name}:{line}:{col}: executing {} at <{context}>: {message}",
        super::fmt::quote(template)
    )]
    Exec {
        /// The file the failing node was parsed from.
        name: String,
        /// 1-based line of the node.
        line: usize,
        /// 0-based byte column of the node, as Go counts it.
        col: usize,
        /// The template being executed (a `define`'s name, or the file's).
        template: String,
        /// The node's source text, as Go prints it.
        context: String,
        /// Go's message (for a function's failure: `error calling NAME: ...`).
        message: String,
    },
    /// An execution error with no node: `template: TEMPLATE: MESSAGE`.
    #[error("template: {template}: {message}")]
    ExecNoNode {
        /// The template being executed.
        template: String,
        /// Go's message.
        message: String,
    },
    /// Executing a template the set does not hold.
    #[error(
        "template: no template {} associated with template {}",
        super::fmt::quote(name),
        super::fmt::quote(root)
    )]
    NotDefined {
        /// The requested name.
        name: String,
        /// The set's root template name.
        root: String,
    },
    /// A resource limit was reached (output size, nesting depth, loop iterations).
    #[error("template: {template}: {message}")]
    Limit {
        /// The template being executed.
        template: String,
        /// What limit.
        message: String,
    },
}
