#include "tests/fakecloud/world.hpp"

namespace ferry::fakecloud {

using nlohmann::json;

Response json_response(int status, const json& body) {
  Response response;
  response.status = status;
  response.body = body.dump();
  return response;
}

Response text_response(int status, std::string body) {
  Response response;
  response.status = status;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

std::string to_string(Kind kind) {
  switch (kind) {
    case Kind::vast: return "vast";
    case Kind::runpod: return "runpod";
    case Kind::fly: return "fly";
  }
  return "?";
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

World::World(std::filesystem::path agent_binary, std::filesystem::path work_root)
    : vast_offers(default_vast_offers()),
      runpod_gpus(default_runpod_gpus()),
      agent_binary_(std::move(agent_binary)),
      work_root_(std::move(work_root)) {}

World::~World() { destroy_all(); }

bool World::take(int& counter) {
  if (counter <= 0) return false;
  --counter;
  return true;
}

std::string World::next_id(const std::string& prefix) { return prefix + std::to_string(++next_id_); }

Instance& World::create(Kind kind, std::string id, std::string offer, double price_per_hour, std::string label,
                        const std::map<std::string, std::string>& env, std::string fate) {
  Instance instance;
  instance.id = id;
  instance.kind = kind;
  instance.offer = std::move(offer);
  instance.price_per_hour = price_per_hour;
  instance.label = std::move(label);
  instance.created = Clock::now();
  instance.created_unix = unix_now();
  instance.fate = std::move(fate);
  if (!instance.fate.empty()) {
  } else if (take(faults.stuck_loading))
    instance.fate = "stuck";
  else if (take(faults.exit_instances))
    instance.fate = "exited";
  else if (take(faults.offline_instances))
    instance.fate = "offline";
  if (instance.fate != "stuck" && instance.fate != "stopped")
    instance.agent = std::make_unique<AgentProcess>(agent_binary_, work_root_ / (to_string(kind) + "-" + id), env);
  auto [where, inserted] = instances.insert_or_assign(id, std::move(instance));
  return where->second;
}

Phase World::phase(Instance& instance) {
  Phase phase;
  if (instance.destroyed_unix) {
    phase.name = Phase::destroyed;
    return phase;
  }
  if (instance.fate == "stopped") {
    phase.name = Phase::stopped;
    return phase;
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - instance.created).count();
  if (elapsed < faults.boot_ms / 3) return phase;  // provisioning
  if (instance.fate == "stuck" || elapsed < faults.boot_ms) {
    phase.name = Phase::loading;
    return phase;
  }
  if (instance.fate == "exited" || instance.fate == "offline") {
    phase.name = instance.fate == "exited" ? Phase::exited : Phase::offline;
    return phase;
  }
  if (!instance.agent || !instance.agent->alive()) {
    phase.name = Phase::exited;
    return phase;
  }
  auto port = instance.agent->port();
  if (!port) {
    phase.name = Phase::loading;  // the container is up, the agent not yet listening
    return phase;
  }
  phase.name = Phase::running;
  if (elapsed >= faults.boot_ms + faults.ports_late_ms) phase.port = port;
  return phase;
}

bool World::destroy(Instance& instance) {
  if (instance.destroyed_unix) return false;
  if (instance.agent) instance.agent->kill();
  instance.destroyed_unix = unix_now();
  return true;
}

json World::ledger() {
  json rows = json::array();
  double total = 0;
  double now = unix_now();
  for (auto& [id, instance] : instances) {
    double end = instance.destroyed_unix.value_or(now);
    double cost = instance.price_per_hour * std::max(0.0, end - instance.created_unix) / 3600.0;
    // Not for billing: benchmarks time ferry's work from the agent's start.
    std::optional<double> listening;
    if (instance.agent && !instance.destroyed_unix) instance.agent->port();
    if (instance.agent) listening = instance.agent->listening_since();
    total += cost;
    rows.push_back({{"id", id},
                    {"provider", to_string(instance.kind)},
                    {"offer", instance.offer},
                    {"label", instance.label},
                    {"price_per_hour", instance.price_per_hour},
                    {"created_at", instance.created_unix},
                    {"destroyed_at", instance.destroyed_unix ? json(*instance.destroyed_unix) : json(nullptr)},
                    {"agent_listening_at", listening ? json(*listening) : json(nullptr)},
                    {"cost", cost}});
  }
  return {{"instances", rows}, {"total_cost", total}};
}

std::optional<int> World::proxy_port(const std::string& name) {
  for (auto& [id, instance] : instances) {
    bool named = instance.kind == Kind::fly ? instance.app == name
                                            : instance.kind == Kind::runpod &&
                                                  name == id + "-" + std::to_string(instance.internal_port);
    if (!named) continue;
    Phase now = phase(instance);
    if (now.name == Phase::running && instance.agent) return instance.agent->port();
  }
  return std::nullopt;
}

void World::destroy_all() {
  for (auto& [id, instance] : instances) destroy(instance);
}

json default_vast_offers() {
  auto row = [](int id, const char* gpu, int gpus, int ram_mb, double price, double reliability, int machine) {
    return json{{"id", id},
                {"ask_contract_id", id},
                {"machine_id", machine},
                {"host_id", machine + 1},
                {"gpu_name", gpu},
                {"num_gpus", gpus},
                {"gpu_ram", ram_mb},
                {"gpu_total_ram", ram_mb * gpus},
                {"cuda_max_good", 12.8},
                {"cpu_cores_effective", 16},
                {"cpu_ram", 64000},
                {"disk_space", 200},
                {"dph_total", price},
                {"dph_base", price * 0.9},
                {"min_bid", price * 0.5},
                {"reliability", reliability},
                {"reliability2", reliability},
                {"score", 100 * reliability / price},
                {"verification", "verified"},
                {"verified", true},
                {"external", false},
                {"rentable", true},
                {"rented", false},
                {"direct_port_count", 20},
                {"geolocation", "Texas, US"},
                {"public_ipaddr", "127.0.0.1"}};
  };
  return json::array({row(4001, "RTX 4090", 1, 24564, 0.35, 0.99, 77),
                      row(4002, "RTX 3090", 1, 24576, 0.20, 0.97, 78),
                      row(4003, "A100 SXM4", 1, 81920, 1.10, 0.995, 79),
                      row(4004, "RTX 4090", 2, 24564, 0.70, 0.98, 80)});
}

json default_runpod_gpus() {
  auto gpu = [](const char* id, const char* name, int memory, double secure, double community, const char* stock) {
    return json{{"id", id},
                {"name", name},
                {"pool", nullptr},
                {"manufacturer", "NVIDIA"},
                {"memory", memory},
                {"secure", true},
                {"community", true},
                {"price", {{"secure", secure}, {"community", community}}},
                {"maxCount", {{"secure", 8}, {"community", 4}}},
                {"availability", stock},
                {"dataCenters", json::array({{{"id", "US-KS-2"}, {"name", "US Kansas 2"}, {"availability", stock}}})}};
  };
  return json::array({gpu("NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.44, 0.31, "HIGH"),
                      gpu("NVIDIA A100-SXM4-80GB", "A100 SXM", 80, 1.49, 1.19, "MEDIUM"),
                      gpu("NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.99, 2.69, "NONE")});
}

}  // namespace ferry::fakecloud
