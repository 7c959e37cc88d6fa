// HttpEndpoint: a one-thread Beast server, a coroutine per connection, one
// request per connection. Probes and Prometheus open a connection per
// scrape anyway, and closing after the answer keeps the bounds simple.
#include "replicator/net/http_endpoint.h"

// clang-format off
// First: Boost 1.74 awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <thread>

namespace snap::replicator::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using engine::Status;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr uint32_t kMaxRequestBytes = 8 * 1024;
constexpr std::chrono::seconds kConnectionDeadline(10);

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response ErrorResponse(const Request& req, http::status status, const std::string& text) {
  Response res(status, req.version());
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = text;
  res.prepare_payload();
  return res;
}

}  // namespace

struct HttpEndpoint::Impl {
  Impl(std::string h, uint16_t p, Handler f) : host(std::move(h)), port(p), handler(std::move(f)) {}

  Status Listen();
  awaitable<void> Accept();
  awaitable<void> Serve(tcp::socket socket);
  Response Answer(const Request& req);
  std::string where() const { return host + ":" + std::to_string(port); }

  std::string host;
  uint16_t port;
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  uint16_t bound_port = 0;
  std::thread thread;
};

Status HttpEndpoint::Impl::Listen() {
  error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::Unavailable("http " + where() + ": cannot resolve: " + ec.message());
  }
  tcp::endpoint ep = endpoints.begin()->endpoint();
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound_port = acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return Status::Unavailable("http " + where() + ": cannot listen: " + ec.message());
  }
  return Status::OK();
}

awaitable<void> HttpEndpoint::Impl::Accept() {
  asio::steady_timer backoff(io);
  while (acceptor.is_open()) {
    tcp::socket socket(io);
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (!acceptor.is_open()) co_return;
    if (ec) {  // out of descriptors and the like: retry later, do not spin
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
  }
}

Response HttpEndpoint::Impl::Answer(const Request& req) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Response res = ErrorResponse(req, http::status::method_not_allowed, "method not allowed\n");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  std::string path(req.target());
  path = path.substr(0, path.find('?'));
  HttpResponse answer;
  try {  // the handler is the caller's code: keep the thread alive
    answer = handler(path);
  } catch (const std::exception& e) {
    return ErrorResponse(req, http::status::internal_server_error, std::string(e.what()) + "\n");
  }
  Response res(static_cast<http::status>(answer.status), req.version());
  res.set(http::field::content_type, answer.content_type);
  const size_t length = answer.body.size();
  if (req.method() == http::verb::get) res.body() = std::move(answer.body);
  res.content_length(length);  // HEAD: the length a GET would get, no body
  return res;
}

awaitable<void> HttpEndpoint::Impl::Serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(kConnectionDeadline);  // covers the read and the write
  beast::flat_buffer buffer(kMaxRequestBytes);
  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxRequestBytes);
  parser.body_limit(kMaxRequestBytes);
  error_code ec;
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
  Response res;
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    res = ErrorResponse(parser.get(), http::status::payload_too_large, "request too large\n");
  } else if (ec) {
    co_return;  // timed out, closed or not HTTP: nothing to answer
  } else {
    res = Answer(parser.get());
  }
  res.keep_alive(false);
  co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

HttpEndpoint::HttpEndpoint(std::string host, uint16_t port, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(host), port, std::move(handler))) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

Status HttpEndpoint::Start() {
  if (impl_->thread.joinable())
    return Status::InvalidArgument("http " + impl_->where() + ": started already");
  Status s = impl_->Listen();
  if (!s.ok()) return s;
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] {
    for (;;) {
      try {
        impl->io.run();
        return;
      } catch (const std::exception&) {  // one connection failed; keep serving the rest
      }
    }
  });
  return Status::OK();
}

uint16_t HttpEndpoint::port() const { return impl_->bound_port; }

void HttpEndpoint::Stop() {
  impl_->io.stop();
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) {
    impl_->thread.join();
  }
}

}  // namespace snap::replicator::net
