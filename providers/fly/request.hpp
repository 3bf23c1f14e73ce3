#pragma once
// Fly.io Machines API requests, built from typed inputs. Pure: no I/O.
// Fly retired its GPU machines on 2026-08-01: ferry rents performance CPU
// machines there (convert, loops, CPU separation). Each instance is its own
// app, so deleting the app removes everything it had.

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "config/manifest.hpp"
#include "providers/api.hpp"
#include "providers/json_fields.hpp"
#include "providers/provider.hpp"

namespace ferry::providers::fly {

/// A machine size ferry offers, with an hourly list price. The prices are
/// Fly's published dedicated-CPU rates (monthly / 720 h); Fly's API reports
/// no price, so they are estimates to check against the bill.
struct MachineSize {
  std::string name;  ///< "performance-2x"
  int cpus = 0;
  int memory_mb = 0;
  double price_per_hour = 0;
};
const std::vector<MachineSize>& machine_sizes();

struct FlySettings {
  std::string org_slug = "personal";
  std::string region = "ord";
  /// Smallest memory offered: the agent with LibTorch needs room.
  int min_memory_mb = 4096;
};

/// Offers for `resources`: every size with at least `min_memory_mb` under
/// max_price. A GPU request is unsupported, with the reason and what to do.
Result<std::vector<Offer>> offers_for(const config::Resources& resources, const FlySettings& settings);

/// "<app>/<machine>", the instance id ferry keeps for a Fly machine.
std::string instance_id(const std::string& app, const std::string& machine_id);
/// The two parts of an instance id; invalid_argument for anything else.
Result<std::pair<std::string, std::string>> split_instance_id(const std::string& id);
/// A valid app name from a label and a random suffix: "ferry-<run>-<suffix>"
/// (lowercase letters, digits and dashes, at most 63 characters).
std::string app_name_for(const std::string& label, const std::string& suffix);

ApiRequest create_app_request(const std::string& app, const FlySettings& settings);
/// A shared IPv4 address: enough for HTTPS on 443 routed by the app's name.
ApiRequest allocate_ip_request(const std::string& app);
/// A performance machine of the offer's size with one service: public 443
/// (TLS terminated by Fly, then HTTP) to the agent's port.
Result<ApiRequest> create_machine_request(const std::string& app, const Offer& offer, const LaunchSpec& launch,
                                          const FlySettings& settings);
ApiRequest get_machine_request(const std::string& app, const std::string& machine_id);
/// `DELETE .../machines/{id}?force=true`: stops it first if it runs.
ApiRequest delete_machine_request(const std::string& app, const std::string& machine_id);
ApiRequest delete_app_request(const std::string& app);
ApiRequest list_apps_request(const FlySettings& settings);
ApiRequest list_machines_request(const std::string& app);

}  // namespace ferry::providers::fly
