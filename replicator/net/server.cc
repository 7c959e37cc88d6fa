// Server: the acceptor and the thread pool. The accept loop and Stop run on
// one strand, so closing the acceptor and registering sessions never race;
// each session runs on a strand of its own (server_session.cc).
#include "replicator/net/server.h"

#include <openssl/x509.h>

// clang-format off
// First: Boost 1.74 awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "replicator/net/server_session.h"
#include "replicator/net/tls_context.h"

namespace snap::replicator::net {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using tcp = boost::asio::ip::tcp;

struct Server::Impl {
  Impl(ServerOptions o, Factory f)
      : opts(std::move(o)), factory(std::move(f)), strand(asio::make_strand(io)), acceptor(strand) {
    if (opts.log) {  // sessions log from any pool thread: one line at a time
      opts.log = [mu = std::make_shared<std::mutex>(), log = std::move(opts.log)](
                     int level, const std::string& line) {
        std::lock_guard<std::mutex> lock(*mu);
        log(level, line);
      };
    }
  }

  Status Listen();
  awaitable<void> Accept();
  void StartSession(tcp::socket socket);
  void EndSession(uint64_t id);
  void StopOnStrand();
  void RunThread();
  void Log(int level, const std::string& line) const {
    if (opts.log) opts.log(level, line);
  }
  std::string where() const {
    return opts.host + ":" + std::to_string(bound_port != 0 ? bound_port : opts.port);
  }

  ServerOptions opts;
  Factory factory;
  asio::io_context io;
  asio::strand<asio::io_context::executor_type> strand;  // accept loop and Stop
  tcp::acceptor acceptor;
  std::unique_ptr<ssl::context> ctx;
  uint16_t bound_port = 0;
  std::atomic<bool> stop_requested{false};
  std::atomic<int> active{0};

  std::mutex mu;
  std::map<uint64_t, std::weak_ptr<ServerSession>> sessions;  // guarded by mu
  uint64_t next_id = 0;                                       // guarded by mu
  bool running = false;                                       // guarded by mu
  std::condition_variable run_done;
};

// Accepts any certificate chain: a client is its key, and whether that key
// is admitted is the session handler's decision, not the transport's.
static bool AcceptAnyClientChain(bool, ssl::verify_context&) { return true; }

Status Server::Impl::Listen() {
  SNAP_ASSIGN_OR_RETURN(ctx, MakeTlsContext(opts.identity, TlsRole::kServer));
  error_code ec;
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (!ec) ctx->set_verify_callback(AcceptAnyClientChain, ec);
  if (ec) return Status::IOError("replicad " + where() + ": TLS setup: " + ErrorText(ec));
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(opts.host, std::to_string(opts.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::Unavailable("replicad " + where() + ": cannot resolve: " + ErrorText(ec));
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
    return Status::Unavailable("replicad " + where() + ": cannot listen: " + ErrorText(ec));
  }
  return Status::OK();
}

awaitable<void> Server::Impl::Accept() {
  asio::steady_timer backoff(strand);
  for (;;) {
    tcp::socket socket(asio::make_strand(io));
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (stop_requested || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: retry later instead of spinning.
      Log(kLogError, "replicad " + where() + ": accept: " + ErrorText(ec));
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    if (active.load() >= opts.max_sessions) {
      error_code ignored;
      auto ep = socket.remote_endpoint(ignored);
      Log(kLogWarning, "refused " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
                           ": " + std::to_string(opts.max_sessions) + " sessions open already");
      socket.close(ignored);
      continue;
    }
    StartSession(std::move(socket));
  }
}

void Server::Impl::StartSession(tcp::socket socket) {
  std::shared_ptr<ServerSession> session;
  try {  // OpenSSL out of memory: drop this connection, keep accepting
    session = std::make_shared<ServerSession>(std::move(socket), opts, factory, *ctx);
  } catch (const std::exception& e) {
    Log(kLogError, "replicad " + where() + ": cannot start a session: " + e.what());
    return;
  }
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu);
    id = next_id++;
    sessions[id] = session;
  }
  ++active;
  asio::co_spawn(session->executor(), ServerSession::Run(session),
                 [this, id, session](std::exception_ptr e) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       session->AbortAfterException(ex.what());
                     } catch (...) {
                       session->AbortAfterException("unknown exception");
                     }
                   }
                   EndSession(id);
                 });
}

void Server::Impl::EndSession(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu);
  sessions.erase(id);
  --active;
}

void Server::Impl::StopOnStrand() {
  error_code ignored;
  acceptor.close(ignored);
  std::vector<std::shared_ptr<ServerSession>> open;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [id, weak] : sessions) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->RequestStop();
}

void Server::Impl::RunThread() {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {  // a handler threw: log, keep serving
      Log(kLogError, std::string("replicad: unexpected exception: ") + e.what());
    }
  }
}

Server::Server(ServerOptions opts, Factory factory)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(factory))) {}

Server::~Server() {
  Stop();
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->run_done.wait(lock, [this] { return !impl_->running; });
}

Status Server::Listen() { return impl_->Listen(); }

uint16_t Server::port() const { return impl_->bound_port; }

void Server::Run() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->running = true;
  }
  if (impl_->acceptor.is_open()) {
    asio::co_spawn(impl_->strand, impl_->Accept(), [impl = impl_.get()](std::exception_ptr e) {
      if (e) impl->Log(kLogError, "replicad " + impl->where() + ": accept loop failed");
    });
  }
  std::vector<std::thread> pool;
  for (int i = 1; i < impl_->opts.threads; ++i) pool.emplace_back([this] { impl_->RunThread(); });
  impl_->RunThread();
  for (auto& t : pool) t.join();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->running = false;
  impl_->run_done.notify_all();
}

void Server::Stop() {
  if (impl_->stop_requested.exchange(true)) return;
  asio::post(impl_->strand, [impl = impl_.get()] { impl->StopOnStrand(); });
}

int Server::active_sessions() const { return impl_->active.load(); }

}  // namespace snap::replicator::net
