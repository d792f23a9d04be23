//! Documented limits that bound the work and memory any input can cost.

/// Bounds on what [`Document::parse_with_limits`](crate::Document::parse_with_limits) accepts.
///
/// Every limit is checked while parsing, before the work or memory it guards is spent, and a
/// document that crosses one is rejected with [`Error::Limit`](crate::Error::Limit). Memory
/// used by a parsed document is at most about three times `max_bytes` plus 64 bytes per node.
///
/// The defaults are sized for SAML responses and metadata (a large response is 50 KiB; a large
/// federation metadata aggregate is beyond what a service provider should parse per request):
///
/// | limit | default |
/// |---|---|
/// | `max_bytes` | 1 MiB |
/// | `max_depth` | 64 |
/// | `max_nodes` | 50 000 |
/// | `max_attributes_per_element` | 64 (namespace declarations included) |
/// | `max_text_len` | 256 KiB |
/// | `max_namespaces_in_scope` | 256 |
///
/// ```
/// use rampart_xmldsig::{Document, Limits};
/// let limits = Limits::default().with_max_depth(2);
/// assert!(Document::parse_with_limits(b"<a><b><c/></b></a>", &limits).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting accepted (the root is at depth 1).
    pub max_depth: usize,
    /// Most nodes (elements, text runs, comments, processing instructions) in a document.
    pub max_nodes: usize,
    /// Most attributes on one element, namespace declarations included.
    pub max_attributes_per_element: usize,
    /// Longest single text run, comment, processing instruction or attribute value, in bytes.
    pub max_text_len: usize,
    /// Most namespace declarations in scope at once (summed over an element and its
    /// ancestors). Prefix resolution walks them, so this bounds its cost.
    pub max_namespaces_in_scope: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 64,
            max_nodes: 50_000,
            max_attributes_per_element: 64,
            max_text_len: 256 << 10,
            max_namespaces_in_scope: 256,
        }
    }
}

impl Limits {
    /// Sets `max_bytes`.
    #[must_use]
    pub fn with_max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }
    /// Sets `max_depth`.
    #[must_use]
    pub fn with_max_depth(mut self, n: usize) -> Self {
        self.max_depth = n;
        self
    }
    /// Sets `max_nodes`.
    #[must_use]
    pub fn with_max_nodes(mut self, n: usize) -> Self {
        self.max_nodes = n;
        self
    }
    /// Sets `max_attributes_per_element`.
    #[must_use]
    pub fn with_max_attributes_per_element(mut self, n: usize) -> Self {
        self.max_attributes_per_element = n;
        self
    }
    /// Sets `max_namespaces_in_scope`.
    #[must_use]
    pub fn with_max_namespaces_in_scope(mut self, n: usize) -> Self {
        self.max_namespaces_in_scope = n;
        self
    }
    /// Sets `max_text_len`.
    #[must_use]
    pub fn with_max_text_len(mut self, n: usize) -> Self {
        self.max_text_len = n;
        self
    }
    /// The largest `max_bytes` accepted: offsets are stored as `u32`, and decoded text may take
    /// as much room again as the input.
    pub const HARD_MAX_BYTES: usize = (u32::MAX / 4) as usize;
}
