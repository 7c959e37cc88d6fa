// Private to replicator/net: owning pointers for OpenSSL objects and the
// certificate helpers shared by tls_identity.cc, the Channel and the Server.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "engine/result.h"

namespace snap::replicator::net {

struct OpenSslFree {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslFree>;

// nullptr when the PEM does not parse.
X509Ptr ParseCertPem(const std::string& pem);
PkeyPtr ParseKeyPem(const std::string& pem);
// "sha256:<hex>" of the certificate's DER SubjectPublicKeyInfo.
engine::Result<std::string> FingerprintOfCert(X509* cert);

}  // namespace snap::replicator::net
