// Timestamps as text, one format everywhere a record is written.
#pragma once

#include <string>

namespace hull {

// Now, UTC, RFC 3339 to the second: "2026-11-30T19:02:03Z".
std::string now_rfc3339();

}  // namespace hull
