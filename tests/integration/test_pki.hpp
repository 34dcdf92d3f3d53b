// TLS for tests: a throwaway CA and server certificate, and a scoped trust of that CA only.
#pragma once
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <string>

namespace voicebridge::testing {

// A throwaway CA and a server certificate for "localhost" only, made with the openssl tool.
struct test_pki {
  std::string dir;
  test_pki() {
    char tmpl[] = "/tmp/voicebridge-pki-XXXXXX";
    dir = mkdtemp(tmpl);
    const std::string script = "cd " + dir + " && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=voicebridge-test-ca 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null && "
        "printf 'subjectAltName=DNS:localhost\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null";
    BOOST_REQUIRE_MESSAGE(std::system(script.c_str()) == 0, "openssl could not make the test CA");
  }
  ~test_pki() { std::system(("rm -rf " + dir).c_str()); }
};

// Trusts only `ca_file` (or the system store when empty) for the lifetime of the object.
struct trusted_ca {
  explicit trusted_ca(const std::string& ca_file) {
    if (ca_file.empty()) unsetenv("SSL_CERT_FILE");
    else setenv("SSL_CERT_FILE", ca_file.c_str(), 1);
  }
  ~trusted_ca() { unsetenv("SSL_CERT_FILE"); }
};


}  // namespace voicebridge::testing
