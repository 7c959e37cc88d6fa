// HttpEndpoint: replicad's plain-HTTP port for GET /health and GET /metrics
// (Boost.Beast). Read-only; answers GET and HEAD, everything else 405; one
// request per connection is enough for probes and Prometheus, bounded
// request size (8 KiB) and a 10 s deadline per connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/result.h"

namespace snap::replicator::net {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpEndpoint {
 public:
  // handler(path) answers one GET; it runs on the endpoint's thread.
  using Handler = std::function<HttpResponse(const std::string& path)>;
  HttpEndpoint(std::string host, uint16_t port, Handler handler);
  ~HttpEndpoint();  // Stop()s and joins
  // Binds, listens and serves on a thread of its own. Unavailable naming
  // host:port when it cannot bind.
  engine::Status Start();
  uint16_t port() const;  // after Start: the bound port
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace snap::replicator::net
