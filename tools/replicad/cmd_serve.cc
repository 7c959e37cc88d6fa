// replicad serve --dir DIR --listen HOST:PORT [--http HOST:PORT] [--threads N]
//                [--handshake-timeout SECONDS] [--idle-timeout SECONDS]
//
// Serves replication sessions (TLS, net::Server) and, with --http, GET
// /health and /metrics. SIGTERM or SIGINT stops accepting and lets every
// session finish the message it is handling (a commit in flight completes
// and each pending pack is written), then exits 0. A second signal exits
// at once.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "replicator/net/http_endpoint.h"
#include "replicator/net/server.h"
#include "replicator/server/replica_session.h"
#include "replicator/server/replica_store.h"
#include "tools/replicad/cli.h"

namespace snap::replicad {
namespace {

namespace net = replicator::net;
using replicator::server::ReplicaSession;
using replicator::server::ReplicaStore;

double SecondsOf(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000; }

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

struct ServeArgs {
  std::string dir;
  std::string listen;
  std::string http;
  int threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  int max_sessions = 64;
  std::string log_level = "info";
  // Seconds; the transport's defaults (FORMAT.md "Bounds and deadlines").
  double handshake_timeout = SecondsOf(net::ServerOptions().handshake_timeout);
  double idle_timeout = SecondsOf(net::ServerOptions().idle_timeout);
};

// Runs an io_context of its own that waits for SIGINT and SIGTERM.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_first) : signals_(io_, SIGINT, SIGTERM) {
    Arm(std::move(on_first));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SignalWatcher() {
    io_.stop();
    thread_.join();
  }

 private:
  void Arm(std::function<void()> on_first) {
    signals_.async_wait([this, on_first](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (++count_ > 1) {
        spdlog::warn("second signal: exiting without waiting for sessions");
        std::_Exit(kExitFailure);
      }
      spdlog::info("{}: finishing sessions, then exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      on_first();
      Arm(on_first);
    });
  }

  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::atomic<int> count_{0};
  std::thread thread_;
};

engine::Status SetUpLogging(const std::string& level_name) {
  spdlog::level::level_enum level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off")
    return engine::Status::InvalidArgument("--log-level " + level_name +
                                           ": use debug, info, warning or error");
  auto logger = spdlog::stderr_color_mt("replicad");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ [%l] %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
  return engine::Status::OK();
}

void LogFromNet(int level, const std::string& line) {
  switch (level) {
    case net::kLogDebug:
      spdlog::debug("{}", line);
      break;
    case net::kLogInfo:
      spdlog::info("{}", line);
      break;
    case net::kLogWarning:
      spdlog::warn("{}", line);
      break;
    default:
      spdlog::error("{}", line);
      break;
  }
}

net::HttpResponse HandleHttp(ReplicaStore& store, const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  if (path == "/health") {
    engine::Status s = store.CheckHealth();
    if (s.ok()) return {200, "text/plain; charset=utf-8", "ok\n"};
    spdlog::warn("health: {}", s.message());
    return {503, "text/plain; charset=utf-8", "unhealthy: " + s.message() + "\n"};
  }
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", store.MetricsText()};
  return {404, "text/plain; charset=utf-8", "not found; try /health or /metrics\n"};
}

// Exact lines on stderr that scripts and tests wait for.
void Announce(const std::string& what, const std::string& host, uint16_t port) {
  std::fprintf(stderr, "%s on %s\n", what.c_str(), FormatHostPort(host, port).c_str());
  std::fflush(stderr);
}

int RunServe(const ServeArgs& a) {
  engine::Status logging = SetUpLogging(a.log_level);
  if (!logging.ok()) return UsageError(logging.message());
  engine::Result<HostPort> listen = ParseHostPort(a.listen);
  if (!listen.ok()) return UsageError("--listen " + listen.status().message());
  std::optional<HostPort> http;
  if (!a.http.empty()) {
    engine::Result<HostPort> h = ParseHostPort(a.http);
    if (!h.ok()) return UsageError("--http " + h.status().message());
    http = *h;
  }
  if (a.threads < 1 || a.max_sessions < 1) return UsageError("--threads and --max-sessions >= 1");

  engine::Result<std::unique_ptr<ReplicaStore>> store = ReplicaStore::Open(a.dir);
  if (!store.ok()) return Fail(store.status());
  engine::Result<net::TlsIdentity> identity = (*store)->LoadIdentity();
  if (!identity.ok()) return Fail(identity.status());
  net::ServerOptions opts;
  opts.host = listen->host;
  opts.port = listen->port;
  opts.identity = *identity;
  opts.threads = a.threads;
  opts.max_sessions = a.max_sessions;
  opts.handshake_timeout = Millis(a.handshake_timeout);
  opts.idle_timeout = Millis(a.idle_timeout);
  opts.log = LogFromNet;
  ReplicaStore* s = store->get();
  net::Server server(
      opts, [s](const net::PeerInfo& peer) { return std::make_unique<ReplicaSession>(s, peer); });
  engine::Status bound = server.Listen();
  if (!bound.ok()) return Fail(bound);
  Announce("listening", listen->host, server.port());

  std::unique_ptr<net::HttpEndpoint> endpoint;
  if (http) {
    endpoint = std::make_unique<net::HttpEndpoint>(
        http->host, http->port, [s](const std::string& path) { return HandleHttp(*s, path); });
    engine::Status started = endpoint->Start();
    if (!started.ok()) return Fail(started);
    Announce("http", http->host, endpoint->port());
  }
  engine::Result<std::string> fp = net::Fingerprint(*identity);
  spdlog::info("replica {} ({} repositories), fingerprint {}", a.dir, (*store)->Repos().size(),
               fp.ok() ? *fp : "?");
  {
    SignalWatcher signals([&server] { server.Stop(); });
    server.Run();
  }
  if (endpoint) endpoint->Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, Globals& g) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "serve replication sessions");
  cmd->add_option("--dir", a->dir, "the replica directory")->required();
  cmd->add_option("--listen", a->listen, "HOST:PORT for clients (TLS), e.g. 0.0.0.0:7411")
      ->required();
  cmd->add_option("--http", a->http, "HOST:PORT for GET /health and /metrics, e.g. 127.0.0.1:7412");
  cmd->add_option("--threads", a->threads, "threads serving sessions")->capture_default_str();
  cmd->add_option("--max-sessions", a->max_sessions, "sessions open at once")
      ->capture_default_str();
  cmd->add_option("--handshake-timeout", a->handshake_timeout,
                  "seconds a new connection has to finish its TLS handshake")
      ->check(CLI::Range(0.001, 86400.0))  // below 1 ms every connection would be cut
      ->capture_default_str();
  cmd->add_option("--idle-timeout", a->idle_timeout,
                  "seconds a session may wait between messages before it is cut")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  cmd->add_option("--log-level", a->log_level, "debug, info, warning or error")
      ->capture_default_str();
  cmd->callback([&g, a] { g.run = [a] { return RunServe(*a); }; });
}

}  // namespace snap::replicad
