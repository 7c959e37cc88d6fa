// TLS identities of replicad and of snapctl clients (FORMAT.md "Replication
// protocol", "Identities"). Each side owns an Ed25519 key and a self-signed
// certificate; peers are recognised by the fingerprint of their public key,
// never by a certificate authority. The one home of OpenSSL's X509 code.
#pragma once

#include <string>

#include "engine/result.h"

namespace snap::replicator::net {

using engine::Result;
using engine::Status;

struct TlsIdentity {
  std::string cert_pem;  // self-signed X.509 certificate
  std::string key_pem;   // PKCS#8 Ed25519 private key
};

// A new Ed25519 key and a self-signed certificate for it (subject CN =
// common_name, valid from now for 100 years, random serial).
Result<TlsIdentity> GenerateIdentity(const std::string& common_name);

// Writes DIR/cert.pem (0644) and DIR/key.pem (0600) through temp files and
// renames; creates DIR (0700) when missing. Never overwrites an existing
// identity: InvalidArgument naming the file.
Status SaveIdentity(const std::string& dir, const TlsIdentity& id);
// Reads them back; NotFound naming the file when absent, Corruption when
// the PEM does not parse or the key does not match the certificate.
Result<TlsIdentity> LoadIdentity(const std::string& dir);

// "sha256:" + 64 lower-case hex digits of SHA-256 over the DER
// SubjectPublicKeyInfo of the certificate's public key. What clients pin
// (server) and what `replicad allow` admits (client key).
Result<std::string> Fingerprint(const TlsIdentity& id);
// The same fingerprint for a DER certificate received from a peer.
Result<std::string> FingerprintOfCertDer(const std::string& cert_der);

// True when `s` has the fingerprint's shape (for argument checking).
bool LooksLikeFingerprint(const std::string& s);

}  // namespace snap::replicator::net
