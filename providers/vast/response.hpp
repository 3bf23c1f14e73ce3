#pragma once
// Vast.ai answers parsed into typed values. Pure. Every surprise (a field of
// the wrong type, a null where an object belongs, a trailing newline in an
// address) either parses into the documented meaning or is a data_loss error
// naming the field.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/http_client.hpp"
#include "providers/provider.hpp"

namespace ferry::providers::vast {

/// Offers from a search, plus a reason for each row that could not be read
/// (skipped rather than failing the whole search).
struct ParsedOffers {
  std::vector<Offer> offers;
  std::vector<std::string> skipped;
};
/// `{"offers": [...]}`: rows Vast reports as rented are dropped (Vast's own
/// client filters them too); `spot` marks every offer as a bid.
Result<ParsedOffers> parse_search(const HttpResponse& response, bool spot);
/// One row of `offers`.
Result<Offer> parse_offer(const nlohmann::json& row, bool spot);

/// A create's outcome. A failed create can still return `new_contract` (an
/// instance exists and bills): then both fields are set and the caller must
/// destroy `instance_id` before moving on.
struct CreateOutcome {
  std::optional<std::string> instance_id;
  std::optional<Error> error;
};
/// An offer gone between search and create (404/410, "no_such_ask", code
/// 3603) is an error with field kOfferUnavailableField.
CreateOutcome parse_create(const HttpResponse& response, const std::string& offer_id);

/// What `actual_status` means for us; `status_msg` catches the container
/// failing to start while still "created".
InstanceState state_from_status(const std::optional<std::string>& actual_status, const std::string& status_msg);
/// "http://IP:PORT" from `public_ipaddr` (whitespace stripped) and
/// `ports["<port>/tcp"][0].HostPort` (a string on the wire; a number is
/// accepted), or nullopt while either is missing.
std::optional<std::string> resolve_endpoint(const nlohmann::json& instance, int agent_port);
/// One instance object (from get or list).
Result<InstanceInfo> parse_instance_object(const nlohmann::json& instance, int agent_port);
/// `GET /instances/{id}/`: `{"instances": null}` and 404 are `gone`.
Result<InstanceInfo> parse_get(const HttpResponse& response, const std::string& instance_id, int agent_port);

/// `DELETE /instances/{id}/`: success, 404, "not_found" and
/// "no_such_instance" all mean the instance is gone.
Status parse_destroy(const HttpResponse& response, const std::string& instance_id);

struct ListPage {
  std::vector<InstanceInfo> instances;
  std::optional<std::string> next_token;
};
Result<ListPage> parse_list_page(const HttpResponse& response, int agent_port);

}  // namespace ferry::providers::vast
