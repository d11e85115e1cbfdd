// Request body framing. Chunked bodies go through Beast's chunk parser, which
// is only reachable as part of a message: the scanner is a Beast parser that
// is first given a fixed head of our own, then only the client's body bytes.
//
// Beast's chunk-size lines and trailers have no length limit of their own,
// so the scanner shows it at most kMaxChunkFraming bytes at a time, always
// starting at the first byte it has not consumed: a line or trailer block that
// does not fit is refused, whatever chunks the bytes arrived in.
#include "egress/request_body.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cassert>
#include <string>

namespace hull::egress {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

class ChunkedBodyScanner final : public http::basic_parser<true> {
 public:
  ChunkedBodyScanner() {
    static constexpr std::string_view kHead =
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    body_limit(boost::none);  // counted, not stored: any size
    eager(true);
    error_code ec;
    put(boost::asio::const_buffer(kHead.data(), kHead.size()), ec);
    assert(!ec && is_header_done());
  }

  Result<RequestBodyFramer::Progress> feed(std::string_view bytes, std::string& upstream);

 private:
  void on_request_impl(http::verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(http::field, string_view, string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  // Unconsumed bytes of a chunk-size line or the trailers, kept for the next
  // feed (Beast wants them shown again); at most kMaxChunkFraming.
  std::string tail_;
};

namespace {

Error malformed(std::string why) { return make_error("chunked request body", std::move(why)); }

}  // namespace

Result<RequestBodyFramer::Progress> ChunkedBodyScanner::feed(std::string_view bytes,
                                                             std::string& upstream) {
  size_t used = 0;  // bytes of `bytes` consumed by Beast or moved into tail_
  while (!is_done()) {
    const bool from_tail = !tail_.empty();
    std::string_view window;
    if (from_tail) {
      size_t take = std::min(bytes.size() - used, kMaxChunkFraming - tail_.size());
      tail_.append(bytes.substr(used, take));
      used += take;
      window = tail_;
    } else {
      window = bytes.substr(used, kMaxChunkFraming);
    }
    if (window.empty()) break;
    error_code ec;
    size_t n = put(boost::asio::const_buffer(window.data(), window.size()), ec);
    upstream.append(window.substr(0, n));  // what Beast accepted, and only that
    if (ec && ec != http::error::need_more)
      return malformed("the chunk framing is malformed (" + ec.message() + ")");
    const bool stuck = n == 0 && !is_done();
    if (stuck && window.size() == kMaxChunkFraming)
      return malformed("a chunk-size line or the trailers are over 16 KiB");
    if (from_tail) {
      tail_.erase(0, n);
      if (stuck && used == bytes.size()) break;
    } else {
      used += n;
      if (stuck) {  // the window was all that is left: keep it for the next feed
        tail_.assign(window);
        used += window.size();
        break;
      }
    }
  }
  RequestBodyFramer::Progress p;
  p.finished = is_done();
  // On finishing, what Beast left in tail_ came after the body (an earlier
  // feed would have finished on the older bytes alone).
  assert(!p.finished || tail_.size() <= used);
  p.used = p.finished ? used - std::min(tail_.size(), used) : bytes.size();
  if (p.finished) tail_.clear();
  return p;
}

RequestBodyFramer::RequestBodyFramer(const ProxyRequest& request) {
  switch (request.body) {
    case BodyFraming::kNone:
      finished_ = true;
      break;
    case BodyFraming::kContentLength:
      remaining_ = request.content_length;
      finished_ = remaining_ == 0;
      break;
    case BodyFraming::kChunked:
      chunked_ = std::make_unique<ChunkedBodyScanner>();
      break;
  }
}

RequestBodyFramer::~RequestBodyFramer() = default;
RequestBodyFramer::RequestBodyFramer(RequestBodyFramer&&) noexcept = default;
RequestBodyFramer& RequestBodyFramer::operator=(RequestBodyFramer&&) noexcept = default;

Result<RequestBodyFramer::Progress> RequestBodyFramer::feed(std::string_view bytes,
                                                            std::string& upstream) {
  if (failed_) return malformed("the body's framing was malformed earlier");
  if (finished_) return Progress{0, true};
  if (chunked_) {
    auto p = chunked_->feed(bytes, upstream);
    if (!p.ok()) {
      failed_ = true;
      return p;
    }
    finished_ = p->finished;
    return p;
  }
  size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size()));
  remaining_ -= take;
  finished_ = remaining_ == 0;
  upstream.append(bytes.substr(0, take));
  return Progress{take, finished_};
}

}  // namespace hull::egress
