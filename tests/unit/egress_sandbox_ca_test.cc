// The per-sandbox CA: its leaves verify for their host and no other, its
// name constraints stop a certificate for any other name even when signed
// with its key, its key file is private, and a real TLS handshake (and the
// openssl command, when present) accept what it mints.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "base/command.h"
#include "base/temp_dir.h"
#include "egress/sandbox_ca.h"

namespace hull::egress {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kHosts = {"api.anthropic.com", "github.com"};

// X509_V_OK, or why `leaf` does not verify for `host` (a name or an IP)
// against `ca` as the only trust anchor, as a TLS server certificate.
int verify(X509* ca, X509* leaf, const std::string& host) {
  X509Store store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca);
  X509StoreCtx ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (host.find_first_not_of("0123456789.:abcdef") == std::string::npos &&
      host.find_first_of(".:") != std::string::npos &&
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1) {
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// A certificate for `san` ("DNS:x" or "IP:x") signed with `ca_key`, made
// without SandboxCa: what someone holding a stolen CA key could make.
X509Cert forge(X509* ca, EVP_PKEY* ca_key, const std::string& san) {
  EvpPkey key(EVP_EC_gen("P-256"));
  X509Cert cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("forged"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca));
  X509_set1_notBefore(cert.get(), X509_get0_notBefore(ca));
  X509_set1_notAfter(cert.get(), X509_get0_notAfter(ca));
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca, cert.get(), nullptr, nullptr, 0);
  X509Extension ext(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str()));
  X509_add_ext(cert.get(), ext.get(), -1);
  X509_sign(cert.get(), ca_key, EVP_sha256());
  return cert;
}

class SandboxCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("/tmp", "hull-sandbox-ca-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
  }
  std::optional<TempDir> tmp_;
};

TEST_F(SandboxCaTest, TheCaIsAShortLivedConstrainedP256RootThatSignedItself) {
  auto ca = SandboxCa::create("mybox", kHosts);
  ASSERT_TRUE(ca.ok()) << ca.error().message();
  X509* c = ca->certificate();
  EXPECT_EQ(X509_check_ca(c), 1);
  EXPECT_EQ(X509_get_pathlen(c), 0);
  EXPECT_EQ(X509_get_key_usage(c), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  int bc = X509_get_ext_by_NID(c, NID_basic_constraints, -1);
  int nc = X509_get_ext_by_NID(c, NID_name_constraints, -1);
  ASSERT_GE(bc, 0);
  ASSERT_GE(nc, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(c, bc)), 1);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(c, nc)), 1);
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "hull sandbox mybox CA");
  EVP_PKEY* pub = X509_get0_pubkey(c);
  EXPECT_TRUE(EVP_PKEY_is_a(pub, "EC"));
  EXPECT_EQ(EVP_PKEY_get_bits(pub), 256);
  EXPECT_EQ(X509_verify(c, pub), 1);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(c), X509_get0_notAfter(c)), 1);
  EXPECT_EQ(days, 30);  // and the hour before now
  EXPECT_EQ(secs, 3600);
  Bignum serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), nullptr));
  EXPECT_GE(BN_num_bits(serial.get()), 100);  // 128 random bits, top ones may be 0
  EXPECT_EQ(ca->hosts(), kHosts);
}

TEST_F(SandboxCaTest, ALongSandboxNameStillFitsTheCommonName) {
  auto ca = SandboxCa::create(std::string(63, 'n'), kHosts);
  ASSERT_TRUE(ca.ok()) << ca.error().message();
}

TEST_F(SandboxCaTest, ALeafVerifiesForItsHostAndFailsForAnother) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok()) << ca.error().message();
  auto leaf = ca->leaf_for("api.anthropic.com");
  ASSERT_TRUE(leaf.ok()) << leaf.error().message();
  EXPECT_EQ(verify(ca->certificate(), (*leaf)->cert.get(), "api.anthropic.com"), X509_V_OK);
  EXPECT_EQ(verify(ca->certificate(), (*leaf)->cert.get(), "github.com"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify(ca->certificate(), (*leaf)->cert.get(), "x.api.anthropic.com"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(X509_check_private_key((*leaf)->cert.get(), (*leaf)->key.get()), 1);
  EXPECT_EQ(X509_check_ca((*leaf)->cert.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage((*leaf)->cert.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter((*leaf)->cert.get()),
                              X509_get0_notAfter(ca->certificate())),
            0);
  // Another sandbox's CA does not vouch for it.
  auto other = SandboxCa::create("other", kHosts);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(verify(other->certificate(), (*leaf)->cert.get(), "api.anthropic.com"), X509_V_OK);
}

TEST_F(SandboxCaTest, LeavesAreMintedOncePerHost) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  auto a = ca->leaf_for("github.com");
  auto b = ca->leaf_for("github.com");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), ca->leaf_for("api.anthropic.com")->get());
}

TEST_F(SandboxCaTest, ALeafForAHostTheCaDoesNotListIsRefused) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  auto r = ca->leaf_for("evil.example");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("vouches only for"), std::string::npos) << r.error().message();
  EXPECT_FALSE(SandboxCa::create("box", std::vector<std::string>{}).ok());
  EXPECT_FALSE(SandboxCa::create("box", std::vector<std::string>{"Bad Host"}).ok());
}

TEST_F(SandboxCaTest, IpLiteralsGetAnIpSan) {
  std::vector<std::string> hosts = {"127.0.0.1", "::1"};
  auto ca = SandboxCa::create("box", hosts);
  ASSERT_TRUE(ca.ok()) << ca.error().message();
  for (const auto& h : hosts) {
    auto leaf = ca->leaf_for(h);
    ASSERT_TRUE(leaf.ok()) << leaf.error().message();
    EXPECT_EQ(verify(ca->certificate(), (*leaf)->cert.get(), h), X509_V_OK) << h;
  }
  EXPECT_EQ(verify(ca->certificate(), ca->leaf_for("127.0.0.1")->get()->cert.get(), "127.0.0.2"),
            X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(SandboxCaTest, NameConstraintsStopCertificatesForOtherNamesEvenWithTheCaKey) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca->write_files(tmp_->path()).ok());
  FILE* f = std::fopen((tmp_->path() + "/ca.key").c_str(), "r");
  ASSERT_NE(f, nullptr);
  EvpPkey key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  ASSERT_TRUE(key);
  X509* c = ca->certificate();
  EXPECT_EQ(verify(c, forge(c, key.get(), "DNS:github.com").get(), "github.com"), X509_V_OK)
      << "the control";
  EXPECT_EQ(verify(c, forge(c, key.get(), "DNS:evil.example").get(), "evil.example"),
            X509_V_ERR_PERMITTED_VIOLATION);
  EXPECT_EQ(verify(c, forge(c, key.get(), "DNS:google.com").get(), "google.com"),
            X509_V_ERR_PERMITTED_VIOLATION);
  EXPECT_EQ(verify(c, forge(c, key.get(), "IP:169.254.169.254").get(), "169.254.169.254"),
            X509_V_ERR_EXCLUDED_VIOLATION);
  EXPECT_EQ(verify(c, forge(c, key.get(), "IP:::1").get(), "::1"), X509_V_ERR_EXCLUDED_VIOLATION);

  // A CA for an IP only permits no real DNS name.
  std::vector<std::string> ip_only = {"127.0.0.1"};
  auto ip_ca = SandboxCa::create("box2", ip_only);
  ASSERT_TRUE(ip_ca.ok());
  fs::create_directory(tmp_->path() + "/sub");
  ASSERT_TRUE(ip_ca->write_files(tmp_->path() + "/sub").ok());
  f = std::fopen((tmp_->path() + "/sub/ca.key").c_str(), "r");
  ASSERT_NE(f, nullptr);
  EvpPkey ip_key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  X509* ic = ip_ca->certificate();
  EXPECT_EQ(verify(ic, forge(ic, ip_key.get(), "DNS:github.com").get(), "github.com"),
            X509_V_ERR_PERMITTED_VIOLATION);
  EXPECT_EQ(verify(ic, forge(ic, ip_key.get(), "IP:127.0.0.2").get(), "127.0.0.2"),
            X509_V_ERR_PERMITTED_VIOLATION);
}

TEST_F(SandboxCaTest, FilesAreWrittenOnceWithTheKeyPrivate) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca->write_files(tmp_->path()).ok());
  EXPECT_EQ(mode_of(tmp_->path() + "/ca.pem"), 0644u);
  EXPECT_EQ(mode_of(tmp_->path() + "/ca.key"), 0600u);
  std::ifstream in(tmp_->path() + "/ca.pem");
  std::string pem((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(pem, ca->certificate_pem());
  EXPECT_EQ(pem.find("PRIVATE"), std::string::npos);
  auto again = ca->write_files(tmp_->path());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().err, EEXIST);
  EXPECT_TRUE(fs::exists(tmp_->path() + "/ca.key")) << "a refused second write removes nothing";
}

TEST_F(SandboxCaTest, ASymlinkWhereTheKeyGoesIsNotWrittenThrough) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  std::string dir = tmp_->path() + "/d";
  fs::create_directory(dir);
  fs::create_symlink(tmp_->path() + "/stolen", dir + "/ca.key");
  EXPECT_FALSE(ca->write_files(dir).ok());
  EXPECT_FALSE(fs::exists(tmp_->path() + "/stolen"));
  EXPECT_FALSE(fs::exists(dir + "/ca.pem"));
}

TEST_F(SandboxCaTest, ALoadedCaMintsLeavesTheWrittenCertificateVouchesFor) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca->write_files(tmp_->path()).ok());
  auto loaded = SandboxCa::load(tmp_->path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->hosts(), kHosts);
  auto leaf = loaded->leaf_for("github.com");
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ(verify(ca->certificate(), (*leaf)->cert.get(), "github.com"), X509_V_OK);
}

TEST_F(SandboxCaTest, AKeyFileOthersCanReadIsRefused) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca->write_files(tmp_->path()).ok());
  ::chmod((tmp_->path() + "/ca.key").c_str(), 0640);
  auto loaded = SandboxCa::load(tmp_->path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("mode 0600"), std::string::npos)
      << loaded.error().message();
}

// One TLS handshake over a socketpair: the server presents `leaf`, the
// client trusts only `ca` and checks `host`. True when it completes.
bool handshake(X509* ca, const LeafCertificate& leaf, const std::string& host) {
  // The side that gives up first closes; the other's write must fail, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
  SslCtx server_ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(server_ctx.get(), leaf.cert.get());
  SSL_CTX_use_PrivateKey(server_ctx.get(), leaf.key.get());
  std::thread server([&] {
    Ssl ssl(SSL_new(server_ctx.get()));
    SSL_set_fd(ssl.get(), sv[1]);
    SSL_accept(ssl.get());
    ::close(sv[1]);
  });
  SslCtx client_ctx(SSL_CTX_new(TLS_client_method()));
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()), ca);
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);
  Ssl ssl(SSL_new(client_ctx.get()));
  SSL_set_tlsext_host_name(ssl.get(), host.c_str());
  SSL_set1_host(ssl.get(), host.c_str());
  SSL_set_fd(ssl.get(), sv[0]);
  bool ok = SSL_connect(ssl.get()) == 1;
  ::shutdown(sv[0], SHUT_RDWR);
  server.join();
  ::close(sv[0]);
  return ok;
}

TEST_F(SandboxCaTest, ATlsClientTrustingTheCaCompletesAHandshakeForTheHostOnly) {
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  auto leaf = ca->leaf_for("api.anthropic.com");
  ASSERT_TRUE(leaf.ok());
  EXPECT_TRUE(handshake(ca->certificate(), **leaf, "api.anthropic.com"));
  EXPECT_FALSE(handshake(ca->certificate(), **leaf, "github.com"));
}

TEST_F(SandboxCaTest, TheOpensslCommandVerifiesALeaf) {
  if (find_program("openssl").empty()) GTEST_SKIP() << "no openssl command on this host";
  auto ca = SandboxCa::create("box", kHosts);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca->write_files(tmp_->path()).ok());
  auto leaf = ca->leaf_for("github.com");
  ASSERT_TRUE(leaf.ok());
  std::string leaf_path = tmp_->path() + "/leaf.pem";
  FILE* f = std::fopen(leaf_path.c_str(), "w");
  PEM_write_X509(f, (*leaf)->cert.get());
  std::fclose(f);
  auto run = [&](const std::string& host) {
    return Command("openssl")
        .args({"verify", "-CAfile", tmp_->path() + "/ca.pem", "-purpose", "sslserver",
               "-verify_hostname", host, leaf_path})
        .capture_stdout()
        .allow_failure()
        .run();
  };
  auto good = run("github.com");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->exit_code, 0) << good->out << good->err_tail;
  auto bad = run("api.github.com");
  ASSERT_TRUE(bad.ok());
  EXPECT_NE(bad->exit_code, 0);
}

}  // namespace
}  // namespace hull::egress
