// TLS for ictcore-server: builds the OpenSSL server context from the --tls-cert and --tls-key
// PEM files. Declared without Asio so main.cpp can load (and reject) the files before it opens
// the database; only the listener and the sessions see the context's definition.
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace ictcore::server {

// Reads `cert_file` (the server certificate, optionally followed by its intermediate
// certificates) and `key_file` (its unencrypted private key), checks that they belong together
// and returns a context for TLS 1.2 and 1.3 only. Throws std::runtime_error with a message that
// names the file and the problem.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace ictcore::server
