// Where a forwarded request's body ends in the client's byte stream, so that
// the proxy forwards exactly the body (its bytes unchanged, chunk framing
// included) and parses the next request of a kept-alive connection right
// after it. Getting this wrong is request smuggling: the bytes of a second
// request would reach the origin without a policy decision of their own.
//
// Usage, after ProxyRequestParser gave a kHttpForward request:
//   RequestBodyFramer body(request);
//   while (!body.finished()) {
//     std::string upstream;
//     auto p = body.feed(bytes, upstream);  // an error: malformed framing, close both sides
//     send `upstream` to the origin;
//     if (p->finished) bytes[p->used ..] start the next request
//     (ProxyRequestParser(Opening::kNextHttpRequest)); else read more
//   }
// A Content-Length body is counted. A chunked one is followed by Beast's chunk
// parser (sizes, extensions, trailers), and only what it has accepted is
// handed out to forward: a chunk-size line or the trailers wait in the framer
// until they are complete and well-formed (at most kMaxChunkFraming bytes),
// so a line the origin might read differently (a bare LF, say) never reaches
// it. Chunk data is handed out as it comes, never buffered. Feeding the same
// bytes in any chunks gives the same ends and the same forwarded bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "egress/proxy_request.h"

namespace hull::egress {

inline constexpr size_t kMaxChunkFraming = 16 * 1024;

class ChunkedBodyScanner;

class RequestBodyFramer {
 public:
  explicit RequestBodyFramer(const ProxyRequest& request);
  ~RequestBodyFramer();
  RequestBodyFramer(RequestBodyFramer&&) noexcept;
  RequestBodyFramer& operator=(RequestBodyFramer&&) noexcept;

  struct Progress {
    size_t used = 0;        // leading bytes of this feed that are body (all, unless finished)
    bool finished = false;  // the body ended within them
  };
  // Appends to `upstream` the body bytes that may be forwarded now.
  Result<Progress> feed(std::string_view bytes, std::string& upstream);
  bool finished() const { return finished_; }

 private:
  std::unique_ptr<ChunkedBodyScanner> chunked_;
  uint64_t remaining_ = 0;  // Content-Length bytes still to come
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace hull::egress
