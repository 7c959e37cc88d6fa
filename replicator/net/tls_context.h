// Private to replicator/net: TLS 1.3-only contexts carrying a TlsIdentity,
// and the wording shared by the Channel and the Server.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "replicator/net/tls_identity.h"

namespace snap::replicator::net {

enum class TlsRole { kClient, kServer };

// A context that speaks TLS 1.3 only and presents `id`. Peer verification
// is left to the caller (each side pins or admits by fingerprint).
// InvalidArgument when the identity's PEM does not load.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext(const TlsIdentity& id,
                                                                  TlsRole role);

// "30 s", "0.2 s": durations in log lines and error messages.
std::string FormatSeconds(std::chrono::milliseconds d);

// The text of an Asio / OpenSSL error, e.g. "Connection refused".
std::string ErrorText(const boost::system::error_code& ec);

}  // namespace snap::replicator::net
