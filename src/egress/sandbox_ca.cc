#include "egress/sandbox_ca.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/fd.h"
#include "base/secret_bytes.h"
#include "base/sys.h"

namespace hull::egress {

namespace {

// Permitted when the CA is for IP literals only: RFC 2606 reserves
// ".invalid", so no real name can ever fall under it.
constexpr std::string_view kNoDnsName = "hull.invalid";

Error ssl_error(const std::string& op) { return make_error(op, openssl_error()); }

// An IP literal's bytes (4 or 16), or empty for a DNS name.
std::string ip_bytes(const std::string& host) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET, host.c_str(), buf) == 1)
    return std::string(reinterpret_cast<char*>(buf), 4);
  if (::inet_pton(AF_INET6, host.c_str(), buf) == 1)
    return std::string(reinterpret_cast<char*>(buf), 16);
  return {};
}

bool plausible_dns_name(const std::string& h) {
  return !h.empty() && h.size() <= 253 && h.front() != '.' && h.back() != '.' &&
         std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
         });
}

Result<EvpPkey> new_p256_key() {
  EvpPkey key(EVP_EC_gen("P-256"));
  if (!key) return ssl_error("generate an EC P-256 key");
  return key;
}

// basicConstraints, keyUsage, ... from OpenSSL's config syntax; the values
// are fixed strings of this file, never anything a sandbox or user wrote.
Status add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509Extension ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return ssl_error(std::string("certificate extension ") + OBJ_nid2sn(nid) + " = " + value);
  return ok_status();
}

// dNSName for a name; iPAddress for a literal: its bytes, and for a name
// constraint the all-ones mask after them (this one address exactly).
Result<GeneralName> general_name(const std::string& host, bool constraint) {
  GeneralName gn(GENERAL_NAME_new());
  if (!gn) return ssl_error("GENERAL_NAME_new");
  std::string ip = ip_bytes(host);
  if (ip.empty()) {
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    if (s == nullptr || ASN1_STRING_set(s, host.data(), static_cast<int>(host.size())) != 1) {
      ASN1_IA5STRING_free(s);
      return ssl_error("name " + host);
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, s);
  } else {
    if (constraint) ip += std::string(ip.size(), '\xff');
    ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
    if (s == nullptr || ASN1_OCTET_STRING_set(s, reinterpret_cast<const unsigned char*>(ip.data()),
                                              static_cast<int>(ip.size())) != 1) {
      ASN1_OCTET_STRING_free(s);
      return ssl_error("address " + host);
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, s);
  }
  return gn;
}

// A whole address family (0.0.0.0/0 or ::/0) as a name-constraint subtree.
Result<GeneralName> every_address(size_t family_bytes) {
  GeneralName gn(GENERAL_NAME_new());
  ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
  std::string zeros(family_bytes * 2, '\0');
  if (!gn || s == nullptr ||
      ASN1_OCTET_STRING_set(s, reinterpret_cast<const unsigned char*>(zeros.data()),
                            static_cast<int>(zeros.size())) != 1) {
    ASN1_OCTET_STRING_free(s);
    return ssl_error("address range");
  }
  GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, s);
  return gn;
}

Status push_subtree(STACK_OF(GENERAL_SUBTREE) * stack, GeneralName name) {
  GeneralSubtree st(GENERAL_SUBTREE_new());
  if (!st) return ssl_error("GENERAL_SUBTREE_new");
  GENERAL_NAME_free(st->base);
  st->base = name.release();
  if (sk_GENERAL_SUBTREE_push(stack, st.get()) == 0) return ssl_error("name constraints");
  st.release();  // the stack owns it
  return ok_status();
}

Status add_name_constraints(X509* cert, std::span<const std::string> hosts) {
  NameConstraints nc(NAME_CONSTRAINTS_new());
  if (!nc) return ssl_error("NAME_CONSTRAINTS_new");
  nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null();
  nc->excludedSubtrees = sk_GENERAL_SUBTREE_new_null();
  if (nc->permittedSubtrees == nullptr || nc->excludedSubtrees == nullptr)
    return ssl_error("name constraints");
  bool any_dns = false, any_ip = false;
  for (const auto& h : hosts) {
    (ip_bytes(h).empty() ? any_dns : any_ip) = true;
    HULL_ASSIGN(GeneralName gn, general_name(h, true));
    HULL_TRY(push_subtree(nc->permittedSubtrees, std::move(gn)));
  }
  // A name type with no permitted subtree is unconstrained (RFC 5280
  // 4.2.1.10), so each type gets one: a name nobody has, or no address at all.
  if (!any_dns) {
    HULL_ASSIGN(GeneralName gn, general_name(std::string(kNoDnsName), true));
    HULL_TRY(push_subtree(nc->permittedSubtrees, std::move(gn)));
  }
  if (!any_ip) {
    for (size_t bytes : {4u, 16u}) {
      HULL_ASSIGN(GeneralName gn, every_address(bytes));
      HULL_TRY(push_subtree(nc->excludedSubtrees, std::move(gn)));
    }
  }
  if (X509_add1_ext_i2d(cert, NID_name_constraints, nc.get(), 1, X509V3_ADD_DEFAULT) != 1)
    return ssl_error("add name constraints");
  return ok_status();
}

Status add_subject_alt_name(X509* cert, const std::string& host, bool critical) {
  GeneralNames names(GENERAL_NAMES_new());
  if (!names) return ssl_error("GENERAL_NAMES_new");
  HULL_ASSIGN(GeneralName gn, general_name(host, false));
  if (sk_GENERAL_NAME_push(names.get(), gn.get()) == 0) return ssl_error("subjectAltName");
  gn.release();
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1)
    return ssl_error("add subjectAltName");
  return ok_status();
}

// Version 3, a random positive 128-bit serial (unpredictable, and unique
// for all practical purposes), the subject (CN, or empty), the public key.
Result<X509Cert> new_certificate(const std::string& common_name, EVP_PKEY* key) {
  X509Cert cert(X509_new());
  Bignum serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return ssl_error("X509_new");
  do {
    if (BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1)
      return ssl_error("random serial");
  } while (BN_is_zero(serial.get()));
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr)
    return ssl_error("serial");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (!common_name.empty() &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1)
    return ssl_error("certificate name '" + common_name + "'");
  if (X509_set_pubkey(cert.get(), key) != 1) return ssl_error("set public key");
  return cert;
}

Status sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) return ssl_error("sign certificate");
  return ok_status();
}

// Creates `name` in dir_fd, exactly `mode`, holding `content`, synced.
Status create_file(int dir_fd, const std::string& dir, const char* name, mode_t mode,
                   std::string_view content) {
  const std::string path = dir + "/" + name;
  auto fd = sys::open_at(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  if (!fd)
    return sys_error("create " + path, fd.error().err,
                     "a sandbox's CA is written once, into a new directory");
  if (::fchmod(fd->get(), mode) < 0) return sys_error("chmod " + path);
  HULL_TRY(sys::write_all(fd->get(), content));
  return sys::fsync(fd->get(), path);
}

// Up to `max` bytes of `name` in dir_fd (never through a symlink), into a
// buffer wiped afterwards: it may be a private key.
Result<SecretBytes> read_small_file(int dir_fd, const std::string& dir, const char* name,
                                    size_t max, bool private_file) {
  const std::string path = dir + "/" + name;
  auto fd = sys::open_at(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (!fd) return sys_error("open " + path, fd.error().err);
  HULL_ASSIGN(struct ::stat st, sys::fstat(fd->get(), path));
  if (!S_ISREG(st.st_mode)) return make_error(path + " is not a regular file");
  if (private_file && (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0))
    return make_error(
        path + " must be yours and mode 0600",
        "the sandbox's CA key may have been exposed: remove the sandbox and start a new one");
  if (st.st_size <= 0 || static_cast<size_t>(st.st_size) > max)
    return make_error(path + " has an unexpected size (" + std::to_string(st.st_size) + " bytes)");
  SecretBytes buf(static_cast<size_t>(st.st_size));
  while (!buf.spare().empty()) {
    HULL_ASSIGN(size_t n, sys::read_some(fd->get(), std::as_writable_bytes(buf.spare())));
    if (n == 0) break;
    buf.grow_by(n);
  }
  return buf;
}

// The hosts a CA certificate's name constraints permit (create()'s list).
std::vector<std::string> permitted_hosts(X509* cert) {
  std::vector<std::string> hosts;
  NameConstraints nc(static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_name_constraints, nullptr, nullptr)));
  if (!nc || nc->permittedSubtrees == nullptr) return hosts;
  for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;
    if (gn->type == GEN_DNS) {
      std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                       static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
      if (name != kNoDnsName) hosts.push_back(std::move(name));
    } else if (gn->type == GEN_IPADD) {
      int len = ASN1_STRING_length(gn->d.iPAddress);
      char text[INET6_ADDRSTRLEN];
      if ((len == 8 || len == 32) &&
          ::inet_ntop(len == 8 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), text,
                      sizeof text))
        hosts.emplace_back(text);
    }
  }
  return hosts;
}

}  // namespace

Result<SandboxCa> SandboxCa::create(const std::string& sandbox_name,
                                    std::span<const std::string> hosts, int validity_days) {
  if (hosts.empty())
    return make_error("sandbox CA for " + sandbox_name, "it needs at least one host to vouch for");
  std::vector<std::string> kept;
  for (const auto& h : hosts) {
    std::string canonical = h;
    if (std::string ip = ip_bytes(h); !ip.empty()) {
      char text[INET6_ADDRSTRLEN];
      canonical = ::inet_ntop(ip.size() == 4 ? AF_INET : AF_INET6, ip.data(), text, sizeof text);
    } else if (!plausible_dns_name(h)) {
      return make_error("sandbox CA for " + sandbox_name + ": '" + h +
                        "' is not a lower-case host name or IP address");
    }
    if (std::find(kept.begin(), kept.end(), canonical) == kept.end()) kept.push_back(canonical);
  }
  HULL_ASSIGN(EvpPkey key, new_p256_key());
  // ub-common-name is 64 characters; sandbox names may take up to 63.
  HULL_ASSIGN(X509Cert cert,
              new_certificate("hull sandbox " + sandbox_name.substr(0, 48) + " CA", key.get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), validity_days, 0, nullptr) == nullptr)
    return ssl_error("CA certificate validity");
  HULL_TRY(add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  HULL_TRY(add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  HULL_TRY(add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  HULL_TRY(add_name_constraints(cert.get(), kept));
  HULL_TRY(sign(cert.get(), key.get()));
  return SandboxCa(std::move(cert), std::move(key), std::move(kept));
}

Result<SandboxCa> SandboxCa::load(const std::string& dir) {
  HULL_ASSIGN(UniqueFd dfd, sys::open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW));
  HULL_ASSIGN(SecretBytes cert_pem, read_small_file(dfd.get(), dir, kCaCertFile, 64 * 1024, false));
  HULL_ASSIGN(SecretBytes key_pem, read_small_file(dfd.get(), dir, kCaKeyFile, 16 * 1024, true));
  Bio cert_bio(BIO_new_mem_buf(cert_pem.view().data(), static_cast<int>(cert_pem.size())));
  Bio key_bio(BIO_new_mem_buf(key_pem.view().data(), static_cast<int>(key_pem.size())));
  if (!cert_bio || !key_bio) return ssl_error("BIO_new_mem_buf");
  X509Cert cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return ssl_error("read " + dir + "/" + kCaCertFile);
  EvpPkey key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return ssl_error("read " + dir + "/" + kCaKeyFile);
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return make_error(dir + "/" + kCaKeyFile + " is not the key of " + kCaCertFile,
                      "remove the sandbox and start a new one");
  std::vector<std::string> hosts = permitted_hosts(cert.get());
  if (hosts.empty())
    return make_error(dir + "/" + kCaCertFile + " names no host (no name constraints)");
  return SandboxCa(std::move(cert), std::move(key), std::move(hosts));
}

Status SandboxCa::write_files(const std::string& dir) const {
  HULL_ASSIGN(UniqueFd dfd, sys::open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW));
  // Secure-heap BIO: the key's PEM is wiped when the BIO is freed.
  Bio key_bio(BIO_new(BIO_s_secmem()));
  if (!key_bio || PEM_write_bio_PrivateKey(key_bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                           nullptr) != 1)
    return ssl_error("encode the CA key");
  char* key_data = nullptr;
  long key_len = BIO_get_mem_data(key_bio.get(), &key_data);
  Status st = create_file(dfd.get(), dir, kCaKeyFile, 0600,
                          std::string_view(key_data, static_cast<size_t>(key_len)));
  if (st) st = create_file(dfd.get(), dir, kCaCertFile, 0644, certificate_pem());
  if (!st) {
    // Leave no half-written CA behind (O_EXCL means "not ours" on EEXIST).
    if (st.error().err != EEXIST) {
      ::unlinkat(dfd.get(), kCaKeyFile, 0);
      ::unlinkat(dfd.get(), kCaCertFile, 0);
    }
    return st;
  }
  if (auto d = sys::open_at(dfd.get(), ".", O_RDONLY | O_DIRECTORY))
    (void)sys::fsync(d->get(), dir);
  return ok_status();
}

std::string SandboxCa::certificate_pem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::shared_ptr<const LeafCertificate>> SandboxCa::leaf_for(const std::string& host) {
  if (auto it = leaves_.find(host); it != leaves_.end()) return it->second;
  if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end())
    return make_error("no certificate for " + host +
                      ": this sandbox's CA vouches only for the hosts of its "
                      "credential rules");
  const bool is_ip = !ip_bytes(host).empty();
  HULL_ASSIGN(EvpPkey key, new_p256_key());
  // An IP leaf has an empty subject: with no dNSName SAN, GnuTLS (and
  // OpenSSL, for a name-like CN) checks the CN as a DNS name against the
  // CA's name constraints, which permit no such name. Clients match the
  // SAN; RFC 5280 then wants it critical.
  HULL_ASSIGN(X509Cert cert, new_certificate(is_ip ? "" : host, key.get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get())) != 1 ||
      X509_set1_notBefore(cert.get(), X509_get0_notBefore(cert_.get())) != 1 ||
      X509_set1_notAfter(cert.get(), X509_get0_notAfter(cert_.get())) != 1)
    return ssl_error("leaf certificate for " + host);
  HULL_TRY(add_ext(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE"));
  HULL_TRY(add_ext(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature"));
  HULL_TRY(add_ext(cert.get(), cert_.get(), NID_ext_key_usage, "serverAuth"));
  HULL_TRY(add_ext(cert.get(), cert_.get(), NID_subject_key_identifier, "hash"));
  HULL_TRY(add_ext(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always"));
  HULL_TRY(add_subject_alt_name(cert.get(), host, is_ip));
  HULL_TRY(sign(cert.get(), key_.get()));
  auto leaf = std::make_shared<const LeafCertificate>(
      LeafCertificate{host, std::move(cert), std::move(key)});
  leaves_.emplace(host, leaf);
  return leaf;
}

}  // namespace hull::egress
