// TLS context of ictcore-server: loads and cross-checks the PEM certificate chain and key, and
// fixes the protocol policy (TLS 1.2 minimum, ECDHE with AEAD ciphers for TLS 1.2, OpenSSL's
// defaults for TLS 1.3, no compression, no renegotiation).
#include "tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace ictcore::server {

namespace {

// Mozilla's "intermediate" TLS 1.2 list: forward secrecy (ECDHE) and AEAD ciphers only. TLS 1.3
// suites are configured separately and keep OpenSSL's defaults, which are all AEAD.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The reason of the most recent OpenSSL error ("no start line", "bad decrypt", ...); clears
// the thread's error queue.
std::string openssl_error() {
    unsigned long last = 0;
    while (const unsigned long code = ERR_get_error()) last = code;
    if (last == 0) return "unknown OpenSSL error";
    const char* reason = ERR_reason_error_string(last);
    return reason != nullptr ? reason : "OpenSSL error " + std::to_string(last);
}

struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
    void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// Opens `path` for reading, or says why it cannot be read; OpenSSL's own message for a missing
// file ("system lib") would not.
std::unique_ptr<BIO, BioDeleter> open_pem(const std::string& path, const char* what) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw std::runtime_error(std::string("cannot read the TLS ") + what + " file " + path + ": is a directory");
    }
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        throw std::runtime_error(std::string("cannot read the TLS ") + what + " file " + path + ": " +
                                 std::strerror(errno));
    }
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_fp(file, BIO_CLOSE));
    if (!bio) {
        std::fclose(file);
        throw std::runtime_error("out of memory reading " + path);
    }
    return bio;
}

// Never prompt on the terminal for a passphrase: an encrypted key simply fails to load.
int no_passphrase(char*, int, int, void*) { return 0; }

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file) {
    namespace ssl = boost::asio::ssl;
    ERR_clear_error();

    // Read both files up front so a mismatch is reported as one, whatever the key types.
    std::unique_ptr<X509, X509Deleter> leaf;
    {
        auto bio = open_pem(cert_file, "certificate");
        leaf.reset(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
        if (!leaf) {
            throw std::runtime_error("the TLS certificate file " + cert_file +
                                     " holds no PEM certificate: " + openssl_error());
        }
    }
    std::unique_ptr<EVP_PKEY, KeyDeleter> key;
    {
        auto bio = open_pem(key_file, "key");
        key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
        if (!key) {
            throw std::runtime_error("the TLS key file " + key_file +
                                     " holds no unencrypted PEM private key: " + openssl_error());
        }
    }
    if (X509_check_private_key(leaf.get(), key.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("the TLS key in " + key_file + " does not match the certificate in " + cert_file);
    }

    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    SSL_CTX_set_default_passwd_cb(native, no_passphrase);
    // The first certificate of the file is the server's; the rest is sent as its chain.
    if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
        throw std::runtime_error("cannot use the TLS certificate chain in " + cert_file + ": " + openssl_error());
    }
    if (SSL_CTX_use_PrivateKey(native, key.get()) != 1 || SSL_CTX_check_private_key(native) != 1) {
        throw std::runtime_error("the TLS key in " + key_file + " does not match the certificate in " + cert_file +
                                 ": " + openssl_error());
    }

    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
        throw std::runtime_error("cannot set the minimum TLS version: " + openssl_error());
    }
    // Compression invites CRIME; renegotiation is a DoS lever HTTP/1.1 does not need. The
    // server's preference order picks AES-GCM or ChaCha20 as listed rather than the client's.
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                    SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
    if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1) {
        throw std::runtime_error("cannot set the TLS 1.2 cipher list: " + openssl_error());
    }
    return context;
}

}  // namespace ictcore::server
