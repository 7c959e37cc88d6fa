#include "replicator/net/tls_identity.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "engine/bytes.h"
#include "tests/support/test_util.h"

namespace snap::replicator::net {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

// The certificate as DER, as a TLS peer sends it.
std::string CertDer(const TlsIdentity& id) {
  BIO* bio = BIO_new_mem_buf(id.cert_pem.data(), static_cast<int>(id.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), n > 0 ? n : 0);
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

TEST(TlsIdentity, GeneratesEd25519KeyAndSelfSignedCertificate) {
  Result<TlsIdentity> id = GenerateIdentity("replica-1");
  ASSERT_OK(id);
  EXPECT_TRUE(id->cert_pem.starts_with("-----BEGIN CERTIFICATE-----")) << id->cert_pem;
  EXPECT_TRUE(id->key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));  // PKCS#8
  BIO* bio = BIO_new_mem_buf(id->cert_pem.data(), static_cast<int>(id->cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(EVP_PKEY_get_id(X509_get0_pubkey(cert)), EVP_PKEY_ED25519);
  EXPECT_EQ(X509_verify(cert, X509_get0_pubkey(cert)), 1);  // self-signed
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "replica-1");
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(cert), nullptr), 0);  // not expired
  X509_free(cert);
}

TEST(TlsIdentity, FingerprintHasItsShapeAndDiffersBetweenKeys) {
  Result<TlsIdentity> a = GenerateIdentity("a");
  Result<TlsIdentity> b = GenerateIdentity("a");
  ASSERT_OK(a);
  ASSERT_OK(b);
  Result<std::string> fa = Fingerprint(*a);
  Result<std::string> fb = Fingerprint(*b);
  ASSERT_OK(fa);
  ASSERT_OK(fb);
  EXPECT_TRUE(LooksLikeFingerprint(*fa)) << *fa;
  EXPECT_EQ(fa->size(), 7u + 64u);
  EXPECT_NE(*fa, *fb);
  EXPECT_EQ(*Fingerprint(*a), *fa);  // stable
}

TEST(TlsIdentity, FingerprintIsSha256OfSubjectPublicKeyInfo) {
  Result<TlsIdentity> id = GenerateIdentity("x");
  ASSERT_OK(id);
  // Ed25519 SPKI DER: a fixed 12-byte prefix, then the 32-byte raw key.
  BIO* bio = BIO_new_mem_buf(id->key_pem.data(), static_cast<int>(id->key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(key, nullptr);
  unsigned char raw[32];
  size_t raw_len = sizeof raw;
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(key, raw, &raw_len), 1);
  EVP_PKEY_free(key);
  const unsigned char prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                    0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  std::string spki(reinterpret_cast<const char*>(prefix), sizeof prefix);
  spki.append(reinterpret_cast<const char*>(raw), raw_len);
  unsigned char md[32];
  unsigned int md_len = 0;
  ASSERT_EQ(EVP_Digest(spki.data(), spki.size(), md, &md_len, EVP_sha256(), nullptr), 1);
  std::string want = "sha256:" + engine::ToHex({reinterpret_cast<std::byte*>(md), md_len});
  EXPECT_EQ(*Fingerprint(*id), want);
  Result<std::string> from_der = FingerprintOfCertDer(CertDer(*id));
  ASSERT_OK(from_der);
  EXPECT_EQ(*from_der, want);
}

TEST(TlsIdentity, SavesAndLoadsTheSameIdentity) {
  test::TempDir tmp;
  const std::string dir = tmp.Sub("id/nested");
  ASSERT_EQ(mkdir(tmp.Sub("id").c_str(), 0700), 0);
  Result<TlsIdentity> id = GenerateIdentity("replica");
  ASSERT_OK(id);
  ASSERT_OK(SaveIdentity(dir, *id));
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/key.pem"), 0600u);
  EXPECT_EQ(ModeOf(dir + "/cert.pem"), 0644u);
  Result<TlsIdentity> back = LoadIdentity(dir);
  ASSERT_OK(back);
  EXPECT_EQ(back->cert_pem, id->cert_pem);
  EXPECT_EQ(back->key_pem, id->key_pem);
  EXPECT_EQ(*Fingerprint(*back), *Fingerprint(*id));
}

TEST(TlsIdentity, SaveRefusesToOverwrite) {
  test::TempDir tmp;
  Result<TlsIdentity> first = GenerateIdentity("one");
  Result<TlsIdentity> second = GenerateIdentity("two");
  ASSERT_OK(first);
  ASSERT_OK(second);
  ASSERT_OK(SaveIdentity(tmp.path(), *first));
  Status s = SaveIdentity(tmp.path(), *second);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(".pem"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(tmp.Sub("cert.pem")), first->cert_pem);
  EXPECT_EQ(ReadFile(tmp.Sub("key.pem")), first->key_pem);
}

TEST(TlsIdentity, LoadOfMissingIdentityIsNotFound) {
  test::TempDir tmp;
  Result<TlsIdentity> id = LoadIdentity(tmp.path());
  EXPECT_TRUE(id.status().IsNotFound()) << id.status().ToString();
  EXPECT_NE(id.status().message().find("cert.pem"), std::string::npos);
}

TEST(TlsIdentity, LoadRefusesKeyOfAnotherCertificate) {
  test::TempDir tmp;
  Result<TlsIdentity> a = GenerateIdentity("a");
  Result<TlsIdentity> b = GenerateIdentity("b");
  ASSERT_OK(a);
  ASSERT_OK(b);
  WriteFile(tmp.Sub("cert.pem"), a->cert_pem);
  WriteFile(tmp.Sub("key.pem"), b->key_pem);
  EXPECT_TRUE(LoadIdentity(tmp.path()).status().IsCorruption());
  WriteFile(tmp.Sub("key.pem"), "not a key");
  EXPECT_TRUE(LoadIdentity(tmp.path()).status().IsCorruption());
}

TEST(TlsIdentity, LooksLikeFingerprintChecksPrefixLengthAndCase) {
  const std::string hex(64, 'a');
  EXPECT_TRUE(LooksLikeFingerprint("sha256:" + hex));
  EXPECT_FALSE(LooksLikeFingerprint("sha256:" + hex.substr(1)));
  EXPECT_FALSE(LooksLikeFingerprint("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(LooksLikeFingerprint("sha256:" + std::string(63, 'a') + "g"));
  EXPECT_FALSE(LooksLikeFingerprint("sha1:" + hex));
  EXPECT_FALSE(LooksLikeFingerprint(""));
  EXPECT_FALSE(FingerprintOfCertDer("garbage").ok());
}

}  // namespace
}  // namespace snap::replicator::net
