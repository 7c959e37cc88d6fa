// TLS 1.3-only contexts for both ends of a replication connection.
#include "replicator/net/tls_context.h"

#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/system_error.hpp>
#include <cstdio>

namespace snap::replicator::net {
namespace ssl = boost::asio::ssl;

namespace {

Status LoadIdentityInto(ssl::context& ctx, const TlsIdentity& id) {
  boost::system::error_code ec;
  ctx.use_certificate(boost::asio::buffer(id.cert_pem), ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument("TLS identity: certificate: " + ErrorText(ec));
  ctx.use_private_key(boost::asio::buffer(id.key_pem), ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument("TLS identity: private key: " + ErrorText(ec));
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("TLS identity: key does not match the certificate");
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const TlsIdentity& id, TlsRole role) {
  std::unique_ptr<ssl::context> ctx;
  try {  // the constructor throws when OpenSSL cannot make a context
    ctx = std::make_unique<ssl::context>(role == TlsRole::kServer ? ssl::context::tls_server
                                                                  : ssl::context::tls_client);
  } catch (const boost::system::system_error& e) {
    return Status::IOError(std::string("TLS context: ") + e.what());
  }
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    return Status::IOError("TLS context: cannot restrict to TLS 1.3");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION);
  if (role == TlsRole::kServer) {
    // No resumption: every connection proves its key afresh, and no session
    // tickets sit unread in a client's socket when it closes.
    SSL_CTX_set_num_tickets(native, 0);
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  }
  SNAP_RETURN_IF_ERROR(LoadIdentityInto(*ctx, id));
  return ctx;
}

std::string FormatSeconds(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string ErrorText(const boost::system::error_code& ec) { return ec.message(); }

}  // namespace snap::replicator::net
