// One RAII owner per OpenSSL object type the egress module uses: every
// EVP_PKEY, X509, BIO, ... lives in one of these from the call that made it,
// so no error path frees by hand (STYLE.md principle 1).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace hull::egress {

template <auto FreeFn>
struct OpenSslFree {
  template <class T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using EvpPkey = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using X509Cert = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using X509Extension = std::unique_ptr<X509_EXTENSION, OpenSslFree<X509_EXTENSION_free>>;
using X509Store = std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>>;
using X509StoreCtx = std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>>;
using GeneralName = std::unique_ptr<GENERAL_NAME, OpenSslFree<GENERAL_NAME_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;
using GeneralSubtree = std::unique_ptr<GENERAL_SUBTREE, OpenSslFree<GENERAL_SUBTREE_free>>;
using NameConstraints = std::unique_ptr<NAME_CONSTRAINTS, OpenSslFree<NAME_CONSTRAINTS_free>>;
using Bignum = std::unique_ptr<BIGNUM, OpenSslFree<BN_free>>;
using Bio = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;
using SslCtx = std::unique_ptr<SSL_CTX, OpenSslFree<SSL_CTX_free>>;
using Ssl = std::unique_ptr<SSL, OpenSslFree<SSL_free>>;

// The oldest error on this thread's OpenSSL error queue as text ("" when
// none), and the queue emptied so that the next failure reads its own.
std::string openssl_error();

}  // namespace hull::egress
