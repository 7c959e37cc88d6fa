// Ed25519 identities: key generation, self-signed certificates, PEM files
// and fingerprints. OpenSSL's X509 code lives here and nowhere else.
#include "replicator/net/tls_identity.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "engine/bytes.h"
#include "replicator/net/tls_util.h"

namespace snap::replicator::net {
namespace {

constexpr long kValidDays = 36525;  // 100 years

// Fills a 128-bit positive serial (RFC 5280 allows up to 20 bytes).
bool SetRandomSerial(X509* x) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return false;
  raw[0] &= 0x7f;  // positive
  raw[0] |= 0x01;  // and never zero
  BignumPtr bn(BN_bin2bn(raw, sizeof raw, nullptr));
  return bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) != nullptr;
}

bool FillCertificate(X509* x, EVP_PKEY* key, const std::string& common_name) {
  if (X509_set_version(x, 2) != 1 || !SetRandomSerial(x)) return false;
  if (!X509_gmtime_adj(X509_getm_notBefore(x), 0)) return false;
  if (!X509_time_adj_ex(X509_getm_notAfter(x), kValidDays, 0, nullptr)) return false;
  X509_NAME* name = X509_get_subject_name(x);
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) return false;
  if (X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1) return false;
  // Ed25519 signs the message itself: no separate digest.
  return X509_sign(x, key, nullptr) > 0;
}

std::string PemOf(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

Result<std::string> FingerprintOfKey(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return Status::InvalidArgument("fingerprint: cannot encode public key");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  int ok = EVP_Digest(der, n, md, &md_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (ok != 1) return Status::InvalidArgument("fingerprint: SHA-256 failed");
  return "sha256:" + engine::ToHex({reinterpret_cast<const std::byte*>(md), md_len});
}

// Writes `data` to `path` through a temp file (fsync, then link, which
// unlike rename fails when `path` exists: an identity is never replaced).
Status WriteNewFile(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno(tmp + ": open", errno);
  Status s;
  if (fchmod(fd, mode) != 0) s = Status::FromErrno(tmp + ": chmod", errno);
  size_t done = 0;
  while (s.ok() && done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      s = Status::FromErrno(tmp + ": write", errno);
    else
      done += static_cast<size_t>(n);
  }
  if (s.ok() && fsync(fd) != 0) s = Status::FromErrno(tmp + ": fsync", errno);
  close(fd);
  if (s.ok() && link(tmp.c_str(), path.c_str()) != 0) {
    s = errno == EEXIST ? Status::InvalidArgument(path + ": identity exists; not overwriting")
                        : Status::FromErrno(path + ": link", errno);
  }
  unlink(tmp.c_str());
  return s;
}

Status EnsureDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
    return Status::InvalidArgument(dir + ": not a directory");
  }
  return Status::FromErrno(dir + ": mkdir", errno);
}

Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(dir + ": open", errno);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  return rc == 0 ? Status::OK() : Status::FromErrno(dir + ": fsync", err);
}

Result<std::string> ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no identity file");
    return Status::FromErrno(path + ": open", errno);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::FromErrno(path + ": read", err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) {
      close(fd);
      return Status::Corruption(path + ": too large for a PEM identity");
    }
  }
  close(fd);
  return out;
}

}  // namespace

X509Ptr ParseCertPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr ParseKeyPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

Result<std::string> FingerprintOfCert(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return Status::InvalidArgument("fingerprint: certificate has no public key");
  return FingerprintOfKey(key);
}

Result<TlsIdentity> GenerateIdentity(const std::string& common_name) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return Status::IOError("identity: Ed25519 key generation failed");
  X509Ptr cert(X509_new());
  if (!cert || !FillCertificate(cert.get(), key.get(), common_name)) {
    return Status::IOError("identity: cannot build a self-signed certificate");
  }
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return Status::IOError("identity: PEM encoding failed");
  }
  return TlsIdentity{PemOf(cert_bio.get()), PemOf(key_bio.get())};
}

Status SaveIdentity(const std::string& dir, const TlsIdentity& id) {
  SNAP_RETURN_IF_ERROR(EnsureDir(dir));
  const std::string cert_path = dir + "/cert.pem", key_path = dir + "/key.pem";
  for (const std::string& p : {cert_path, key_path}) {
    if (access(p.c_str(), F_OK) == 0) {
      return Status::InvalidArgument(p + ": identity exists; not overwriting");
    }
  }
  SNAP_RETURN_IF_ERROR(WriteNewFile(key_path, id.key_pem, 0600));
  SNAP_RETURN_IF_ERROR(WriteNewFile(cert_path, id.cert_pem, 0644));
  return SyncDir(dir);
}

Result<TlsIdentity> LoadIdentity(const std::string& dir) {
  const std::string cert_path = dir + "/cert.pem", key_path = dir + "/key.pem";
  SNAP_ASSIGN_OR_RETURN(std::string cert_pem, ReadSmallFile(cert_path));
  SNAP_ASSIGN_OR_RETURN(std::string key_pem, ReadSmallFile(key_path));
  X509Ptr cert = ParseCertPem(cert_pem);
  if (!cert) return Status::Corruption(cert_path + ": not a PEM certificate");
  PkeyPtr key = ParseKeyPem(key_pem);
  if (!key) return Status::Corruption(key_path + ": not a PEM private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::Corruption(key_path + ": key does not match " + cert_path);
  }
  return TlsIdentity{std::move(cert_pem), std::move(key_pem)};
}

Result<std::string> Fingerprint(const TlsIdentity& id) {
  X509Ptr cert = ParseCertPem(id.cert_pem);
  if (!cert) return Status::InvalidArgument("fingerprint: certificate PEM does not parse");
  return FingerprintOfCert(cert.get());
}

Result<std::string> FingerprintOfCertDer(const std::string& cert_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(cert_der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(cert_der.size())));
  if (!cert) return Status::InvalidArgument("fingerprint: certificate DER does not parse");
  return FingerprintOfCert(cert.get());
}

bool LooksLikeFingerprint(const std::string& s) {
  constexpr std::string_view kPrefix = "sha256:";
  if (s.size() != kPrefix.size() + 64 || !s.starts_with(kPrefix)) return false;
  for (size_t i = kPrefix.size(); i < s.size(); ++i) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace snap::replicator::net
