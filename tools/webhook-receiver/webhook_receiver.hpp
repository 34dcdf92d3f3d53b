// A local stand-in for the business's own system (a CRM, a ticket system) receiving voicebridge's
// webhooks: it accepts JSON POSTs over http or https, checks the Voicebridge-Signature as a receiver should
// (HMAC-SHA256 of "t.body" with the shared secret, a timestamp within five minutes), answers with scripted
// statuses (500, 500, 500, then 200, say), slowly or never, and keeps each request and which ids it
// accepted, as an idempotent receiver would (a second delivery of one Idempotency-Key is not a second record).
#pragma once
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace voicebridge::fake {

struct receiver_script {
  std::vector<unsigned> statuses{200};  // one per request, in order; the last repeats
  int delay_ms = 0;                     // before each answer
  bool never_answer = false;            // read the request, then hold the connection until the client leaves
  std::string answer_body;              // the body of a 2xx answer (a pre-call answer, say)
  std::string secret;                   // set: requests without a valid signature get 401
  std::string tls_certificate_chain;    // PEM files: serve https instead of http
  std::string tls_private_key;
};

struct received_request {
  std::string target, body, signature, idempotency_key, content_type;
  unsigned answered = 0;  // the status it got (0: none)
};

struct receiver_record {
  std::vector<received_request> requests;
  std::map<std::string, int> accepted;  // by Idempotency-Key (or body, without one): how often a 2xx was given
  int bad_signatures = 0;
};

class webhook_receiver {
 public:
  webhook_receiver(boost::asio::io_context& io, receiver_script script, std::uint16_t port = 0);
  ~webhook_receiver();
  std::uint16_t port() const;
  std::string url(const std::string& path = "/hooks/voicebridge") const;  // http(s)://localhost:port/path
  const receiver_record& record() const;
  receiver_script& script();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// Whether `header` signs `body` with `secret` (the check a receiver makes), its timestamp within
// `tolerance_s` of `now_s`.
bool valid_signature(const std::string& header, const std::string& body, const std::string& secret, std::int64_t now_s,
                     std::int64_t tolerance_s = 300);

}  // namespace voicebridge::fake
