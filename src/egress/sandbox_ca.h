// The per-sandbox certificate authority the egress process terminates TLS
// with, for the hosts where it injects a credential (issue 13 item 5).
//
// Order of use:
//   1. the supervisor, at launch: SandboxCa::create(name, hosts), then
//      write_files(sandbox dir); the certificate goes into the sandbox's
//      trust store (certificate_pem()), the key never leaves the host;
//   2. the egress process: SandboxCa::load(dir), then leaf_for(host) for
//      each intercepted connection (cached per host for the CA's life).
//
// The CA: EC P-256, self-signed, CN "hull sandbox <name> CA",
// basicConstraints critical CA:TRUE pathlen:0, keyUsage keyCertSign+cRLSign,
// a random 128-bit serial, valid from an hour ago (a guest clock a little
// behind still accepts it) for kCaValidityDays. Its critical nameConstraints
// permit only the hosts given: if its key leaked, it could still not vouch
// for any other name. OpenSSL (curl, Python, Node), GnuTLS (Debian's git),
// Go and rustls all enforce them. IP addresses other than the listed
// literals are excluded; when no DNS name is listed, only "hull.invalid" is
// permitted.
//
// Leaves: EC P-256, CN and SAN dNSName = the host (an IP literal: an empty
// subject and a critical iPAddress SAN, since GnuTLS would check a CN
// against the DNS constraints), EKU serverAuth, CA:FALSE, valid exactly as
// long as the CA. Checked with curl and Python (OpenSSL), Node 20 and git
// (GnuTLS) against `openssl s_server` on loopback. A sandbox that
// outlives the CA (30 days) must get a new one; leaves do not outlive it.
//
// Not thread-safe: the egress process runs one event loop (STYLE.md 10).
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "egress/openssl_handles.h"

namespace hull::egress {

inline constexpr int kCaValidityDays = 30;
inline constexpr const char* kCaCertFile = "ca.pem";  // 0644: it goes into the sandbox
inline constexpr const char* kCaKeyFile = "ca.key";   // 0600: it never does

// A TLS server certificate for one host, and its key.
struct LeafCertificate {
  std::string host;
  X509Cert cert;
  EvpPkey key;
};

class SandboxCa {
 public:
  // `hosts`: DNS names (lower case) or IP literals (IPv6 without brackets),
  // at least one; the CA may vouch for these and nothing else.
  static Result<SandboxCa> create(const std::string& sandbox_name,
                                  std::span<const std::string> hosts,
                                  int validity_days = kCaValidityDays);
  // Reads kCaCertFile and kCaKeyFile from `dir`; the key file must be a
  // regular file, ours, and 0600. The hosts come from the certificate's
  // name constraints.
  static Result<SandboxCa> load(const std::string& dir);

  // Creates kCaCertFile (0644) and kCaKeyFile (0600) in `dir` with
  // O_EXCL|O_NOFOLLOW: never over an existing file or through a symlink.
  Status write_files(const std::string& dir) const;

  std::string certificate_pem() const;
  X509* certificate() const { return cert_.get(); }
  const std::vector<std::string>& hosts() const { return hosts_; }

  // The leaf for `host` (one of hosts(); any other is refused), minted on
  // first use and then cached.
  Result<std::shared_ptr<const LeafCertificate>> leaf_for(const std::string& host);

 private:
  SandboxCa(X509Cert cert, EvpPkey key, std::vector<std::string> hosts)
      : cert_(std::move(cert)), key_(std::move(key)), hosts_(std::move(hosts)) {}
  X509Cert cert_;
  EvpPkey key_;
  std::vector<std::string> hosts_;
  std::map<std::string, std::shared_ptr<const LeafCertificate>> leaves_;
};

}  // namespace hull::egress
