// Paths for method/path egress rules (`GET,HEAD github.com/*`): the pattern
// a rule writes and the path a request asks for, brought to one canonical
// form so that no other spelling of a path gets past a rule.
//
// Canonical form (both sides): starts with '/'; percent-escapes of
// unreserved characters (A-Z a-z 0-9 - . _ ~) decoded, all others kept with
// upper-case hex; runs of '/' collapsed to one. Refused, because servers
// read them differently than a rule would: '.' and '..' segments (also
// escaped: %2e%2e), an escaped '/' or '\' (%2F, %5C), '\', '#', spaces,
// control and non-ASCII bytes, a bad '%' escape, over 8 KiB.
//
// Pattern semantics, the simplest honest ones:
//   - '*' matches one or more characters, '/' included, so
//     `/*/git-receive-pack` matches `/owner/repo.git/git-receive-pack`;
//   - a trailing "/*" matches the prefix itself and anything below it:
//     `/repos/*` matches `/repos`, `/repos/` and `/repos/a/b`; `/*` matches
//     every path;
//   - everything else matches itself, case-sensitively. A literal '*'
//     cannot be written; '**' is refused (it would mean two or more).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace hull::policy {

// A request target in origin form ("/a/b?q=1"): the query is dropped, the
// rest made canonical, or an Error saying why the path is refused.
Result<std::string> canonical_request_path(std::string_view target);

// A rule's path pattern ("/*/git-receive-pack") in canonical form. A query
// ('?') is refused: rules match paths only.
Result<std::string> canonical_path_pattern(std::string_view pattern);

// Both arguments canonical (from the two functions above).
bool path_matches(std::string_view pattern, std::string_view path);

}  // namespace hull::policy
