#pragma once

#include <string_view>

namespace rhp::proxy {

/* Compares a secret a client sent (AUTH's password, the admin endpoint's
 * bearer token) with the configured one. It takes as long for every wrong
 * value of a given length: the time depends on what the client sent, never
 * on where it differs from the secret, so the secret cannot be guessed a
 * byte at a time. */
bool sameSecret(std::string_view given, std::string_view secret);

}  // namespace rhp::proxy
