#include "controller/state_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <array>
#include <chrono>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace ferry::controller {
namespace {

// 1: runs, instances, jobs. 2: instances.price_per_hour (for cost so far).
// 3: millisecond instance timings and job sizes, predictions and work times
// (what `--dry-run` calibrates its estimate on).
constexpr int kSchemaVersion = 3;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  manifest_path TEXT NOT NULL,
  provider TEXT NOT NULL,
  output_dir TEXT NOT NULL,
  state TEXT NOT NULL,
  jobs_total INTEGER NOT NULL DEFAULT 0,
  jobs_done INTEGER NOT NULL DEFAULT 0,
  jobs_failed INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS instances (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(id),
  provider TEXT NOT NULL,
  provider_id TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  endpoint TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  destroyed_at INTEGER,
  price_per_hour REAL NOT NULL DEFAULT 0,
  created_ms INTEGER,
  ready_ms INTEGER,
  destroy_ms INTEGER,
  gone_ms INTEGER
);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id),
  entry_index INTEGER NOT NULL,
  kind TEXT NOT NULL,
  input TEXT NOT NULL,
  state TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  outputs TEXT NOT NULL DEFAULT '[]',
  updated_at INTEGER NOT NULL,
  input_bytes INTEGER,
  expected_s REAL,
  work_s REAL,
  instance_row INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_by_run ON jobs(run_id);
CREATE INDEX IF NOT EXISTS instances_by_run ON instances(run_id);
)sql";

// Each step brings a database of the version before it to the next.
constexpr const char* kAddPrices = "ALTER TABLE instances ADD COLUMN price_per_hour REAL NOT NULL DEFAULT 0;";
constexpr const char* kAddTimings = R"sql(
ALTER TABLE instances ADD COLUMN created_ms INTEGER;
ALTER TABLE instances ADD COLUMN ready_ms INTEGER;
ALTER TABLE instances ADD COLUMN destroy_ms INTEGER;
ALTER TABLE instances ADD COLUMN gone_ms INTEGER;
ALTER TABLE jobs ADD COLUMN input_bytes INTEGER;
ALTER TABLE jobs ADD COLUMN expected_s REAL;
ALTER TABLE jobs ADD COLUMN work_s REAL;
ALTER TABLE jobs ADD COLUMN instance_row INTEGER;
)sql";
// After the migrations: the columns exist whatever the starting version.
constexpr const char* kIndexesOnNewColumns = "CREATE INDEX IF NOT EXISTS jobs_by_instance ON jobs(instance_row);";

constexpr std::array<std::string_view, 7> kRunStates{
    "planned", "starting", "running", "succeeded", "failed", "interrupted", "teardown_failed"};

// A prepared statement bound left to right, freed on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& bind(const std::string& text) {
    sqlite3_bind_text(stmt_, ++index_, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(std::int64_t number) {
    sqlite3_bind_int64(stmt_, ++index_, number);
    return *this;
  }
  Statement& bind(double number) {
    sqlite3_bind_double(stmt_, ++index_, number);
    return *this;
  }
  Statement& bind(std::optional<std::int64_t> number) {
    if (number) return bind(*number);
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }
  Statement& bind(std::optional<std::uint64_t> number) {
    if (number) return bind(static_cast<std::int64_t>(*number));
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }
  Statement& bind(std::optional<double> number) {
    if (number) return bind(*number);
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  std::string text(int column) const {
    auto* value = sqlite3_column_text(stmt_, column);
    return value ? reinterpret_cast<const char*>(value) : "";
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::optional<std::int64_t> optional_integer(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return integer(column);
  }
  std::optional<double> optional_real(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return real(column);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int index_ = 0;
};

Error database_error(sqlite3* db, const std::string& what) {
  return Error{ErrorCode::io_error, "state database: " + what + ": " + sqlite3_errmsg(db), {}};
}

RunRecord read_run(const Statement& row) {
  RunRecord run;
  run.id = row.text(0);
  run.name = row.text(1);
  run.manifest_path = row.text(2);
  run.provider = row.text(3);
  run.output_dir = row.text(4);
  run.state = run_state_from_string(row.text(5)).value_or(RunState::failed);
  run.jobs_total = static_cast<int>(row.integer(6));
  run.jobs_done = static_cast<int>(row.integer(7));
  run.jobs_failed = static_cast<int>(row.integer(8));
  run.started_at = row.integer(9);
  run.finished_at = row.optional_integer(10);
  run.message = row.text(11);
  return run;
}

constexpr const char* kRunColumns =
    "id, name, manifest_path, provider, output_dir, state, jobs_total, jobs_done, jobs_failed, "
    "started_at, finished_at, message";

}  // namespace

UnixSeconds now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

UnixMillis now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double instance_cost(const InstanceRecord& instance, UnixSeconds now) {
  if (instance.provider_id.empty()) return 0;
  UnixSeconds end = instance.destroyed_at.value_or(now);
  if (end <= instance.created_at) return 0;
  return instance.price_per_hour * static_cast<double>(end - instance.created_at) / 3600.0;
}

std::string_view to_string(RunState state) { return kRunStates[static_cast<std::size_t>(state)]; }

std::optional<RunState> run_state_from_string(std::string_view text) {
  for (std::size_t i = 0; i < kRunStates.size(); ++i)
    if (kRunStates[i] == text) return static_cast<RunState>(i);
  return std::nullopt;
}

struct StateStore::Impl {
  sqlite3* db = nullptr;
  ~Impl() { sqlite3_close_v2(db); }

  Status exec(const char* sql, const std::string& what) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : "unknown error";
      sqlite3_free(message);
      return fail(ErrorCode::io_error, "state database: " + what + ": " + text);
    }
    return {};
  }

  /// Runs a write statement to completion.
  Status run(Statement& statement, const std::string& what) {
    if (!statement.ok()) return fail(database_error(db, what));
    if (statement.step() != SQLITE_DONE) return fail(database_error(db, what));
    return {};
  }
};

StateStore::StateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateStore::StateStore(StateStore&&) noexcept = default;
StateStore& StateStore::operator=(StateStore&&) noexcept = default;
StateStore::~StateStore() = default;

Result<std::filesystem::path> StateStore::default_path() {
  if (const char* state_home = std::getenv("XDG_STATE_HOME"); state_home && *state_home)
    return std::filesystem::path(state_home) / "ferry" / "state.db";
  const char* home = std::getenv("HOME");
  if (!home || !*home)
    return fail(ErrorCode::failed_precondition,
                "cannot place the state database: neither XDG_STATE_HOME nor HOME is set; set XDG_STATE_HOME");
  return std::filesystem::path(home) / ".local" / "state" / "ferry" / "state.db";
}

Result<StateStore> StateStore::open(const std::filesystem::path& path) {
  auto folder = path.parent_path();
  if (!folder.empty()) {
    std::error_code error;
    bool created = std::filesystem::create_directories(folder, error);
    if (error)
      return fail(ErrorCode::io_error, "cannot create the state folder '" + folder.string() + "': " + error.message(),
                  folder.string());
    // Run records name files and endpoints: keep them private to the user.
    if (created) ::chmod(folder.c_str(), 0700);
  }
  auto impl = std::make_unique<Impl>();
  if (sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    return fail(ErrorCode::io_error, "cannot open the state database '" + path.string() + "': " + message,
                path.string());
  }
  // Two ferry processes may share the file (a run and a `ferry status`).
  sqlite3_busy_timeout(impl->db, 5000);
  if (auto wal = impl->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                            "configure");
      !wal)
    return fail(wal.error());
  if (auto schema = impl->exec("BEGIN IMMEDIATE;", "begin"); !schema) return fail(schema.error());
  if (auto schema = impl->exec(kSchema, "create schema"); !schema) {
    impl->exec("ROLLBACK;", "rollback");
    return fail(schema.error());
  }
  std::optional<std::int64_t> version;
  {
    Statement select(impl->db, "SELECT MAX(version) FROM schema_version");
    if (select.ok() && select.step() == SQLITE_ROW) version = select.optional_integer(0);
  }
  if (version && *version > kSchemaVersion) {
    impl->exec("ROLLBACK;", "rollback");
    return fail(ErrorCode::failed_precondition,
                "the state database '" + path.string() + "' was written by a newer ferry (schema " +
                    std::to_string(*version) + "); upgrade ferry",
                path.string());
  }
  if (!version || *version < kSchemaVersion) {
    // Additive migrations, oldest first; CREATE TABLE above made nothing new
    // for a database that already had the tables.
    Status migrated;
    if (version && *version < 2) migrated = impl->exec(kAddPrices, "add instances.price_per_hour");
    if (migrated && version && *version < 3)
      migrated = impl->exec(kAddTimings, "add instance timings and job work times");
    if (migrated) migrated = impl->exec(kIndexesOnNewColumns, "create indexes");
    Statement record(impl->db, "INSERT INTO schema_version (version) VALUES (?)");
    record.bind(static_cast<std::int64_t>(kSchemaVersion));
    if (migrated) migrated = impl->run(record, "record schema version");
    if (!migrated) {
      impl->exec("ROLLBACK;", "rollback");
      return fail(migrated.error());
    }
  }
  if (auto committed = impl->exec("COMMIT;", "commit"); !committed) return fail(committed.error());
  return StateStore(std::move(impl));
}

Status StateStore::create_run(const RunRecord& run) {
  Statement insert(impl_->db,
                   "INSERT INTO runs (id, name, manifest_path, provider, output_dir, state, jobs_total, jobs_done, "
                   "jobs_failed, started_at, finished_at, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  insert.bind(run.id).bind(run.name).bind(run.manifest_path).bind(run.provider).bind(run.output_dir)
      .bind(std::string(to_string(run.state))).bind(std::int64_t{run.jobs_total}).bind(std::int64_t{run.jobs_done})
      .bind(std::int64_t{run.jobs_failed}).bind(run.started_at).bind(run.finished_at).bind(run.message);
  return impl_->run(insert, "create run " + run.id);
}

Status StateStore::update_run(const RunRecord& run) {
  Statement update(impl_->db,
                   "UPDATE runs SET state=?, jobs_total=?, jobs_done=?, jobs_failed=?, finished_at=?, message=? "
                   "WHERE id=?");
  update.bind(std::string(to_string(run.state))).bind(std::int64_t{run.jobs_total})
      .bind(std::int64_t{run.jobs_done}).bind(std::int64_t{run.jobs_failed}).bind(run.finished_at)
      .bind(run.message).bind(run.id);
  if (auto done = impl_->run(update, "update run " + run.id); !done) return done;
  if (sqlite3_changes(impl_->db) == 0) return fail(ErrorCode::not_found, "state database: no run '" + run.id + "'");
  return {};
}

Result<std::optional<RunRecord>> StateStore::find_run(const std::string& id) {
  Statement select(impl_->db, (std::string("SELECT ") + kRunColumns + " FROM runs WHERE id=?").c_str());
  if (!select.ok()) return fail(database_error(impl_->db, "read run"));
  select.bind(id);
  int rc = select.step();
  if (rc == SQLITE_DONE) return std::optional<RunRecord>();
  if (rc != SQLITE_ROW) return fail(database_error(impl_->db, "read run " + id));
  return std::optional<RunRecord>(read_run(select));
}

Result<std::vector<RunRecord>> StateStore::list_runs(int limit) {
  Statement select(impl_->db,
                   (std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?")
                       .c_str());
  if (!select.ok()) return fail(database_error(impl_->db, "list runs"));
  select.bind(std::int64_t{limit});
  std::vector<RunRecord> runs;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) runs.push_back(read_run(select));
  if (rc != SQLITE_DONE) return fail(database_error(impl_->db, "list runs"));
  return runs;
}

Result<std::int64_t> StateStore::record_intended_instance(const std::string& run_id, const std::string& provider,
                                                          double price_per_hour) {
  Statement insert(impl_->db,
                   "INSERT INTO instances (run_id, provider, state, created_at, price_per_hour, created_ms) "
                   "VALUES (?,?,'intended',?,?,?)");
  const UnixMillis now = now_unix_ms();
  insert.bind(run_id).bind(provider).bind(now / 1000).bind(price_per_hour).bind(now);
  if (auto done = impl_->run(insert, "record instance for run " + run_id); !done) return fail(done.error());
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(impl_->db));
}

Status StateStore::set_instance_created(std::int64_t row, const std::string& provider_id) {
  Statement update(impl_->db,
                   "UPDATE instances SET provider_id=?, state='created', created_ms=? WHERE id=?");
  update.bind(provider_id).bind(now_unix_ms()).bind(row);
  return impl_->run(update, "record instance id " + provider_id);
}

Status StateStore::set_instance_state(std::int64_t row, const std::string& state, const std::string& endpoint) {
  Statement update(impl_->db,
                   "UPDATE instances SET state=?, endpoint=CASE WHEN ?='' THEN endpoint ELSE ? END, "
                   "destroyed_at=CASE WHEN ?='destroyed' THEN ? ELSE destroyed_at END, "
                   "gone_ms=CASE WHEN ?='destroyed' THEN ? ELSE gone_ms END WHERE id=?");
  const UnixMillis now = now_unix_ms();
  update.bind(state).bind(endpoint).bind(endpoint).bind(state).bind(now / 1000).bind(state).bind(now).bind(row);
  return impl_->run(update, "update instance state");
}

Status StateStore::set_instance_ready(std::int64_t row) {
  Statement update(impl_->db, "UPDATE instances SET ready_ms=COALESCE(ready_ms, ?) WHERE id=?");
  update.bind(now_unix_ms()).bind(row);
  return impl_->run(update, "record instance ready");
}

Status StateStore::set_instance_destroy_accepted(std::int64_t row) {
  Statement update(impl_->db, "UPDATE instances SET destroy_ms=COALESCE(destroy_ms, ?) WHERE id=?");
  update.bind(now_unix_ms()).bind(row);
  return impl_->run(update, "record instance destroy");
}

Result<std::vector<InstanceRecord>> StateStore::list_instances(const std::string& run_id) {
  Statement select(impl_->db,
                   "SELECT id, run_id, provider, provider_id, state, endpoint, created_at, destroyed_at, "
                   "price_per_hour, created_ms, ready_ms, destroy_ms, gone_ms FROM instances WHERE run_id=? "
                   "ORDER BY id");
  if (!select.ok()) return fail(database_error(impl_->db, "list instances"));
  select.bind(run_id);
  std::vector<InstanceRecord> instances;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    InstanceRecord instance;
    instance.id = select.integer(0);
    instance.run_id = select.text(1);
    instance.provider = select.text(2);
    instance.provider_id = select.text(3);
    instance.state = select.text(4);
    instance.endpoint = select.text(5);
    instance.created_at = select.integer(6);
    instance.destroyed_at = select.optional_integer(7);
    instance.price_per_hour = select.real(8);
    instance.created_ms = select.optional_integer(9);
    instance.ready_ms = select.optional_integer(10);
    instance.destroy_ms = select.optional_integer(11);
    instance.gone_ms = select.optional_integer(12);
    instances.push_back(std::move(instance));
  }
  if (rc != SQLITE_DONE) return fail(database_error(impl_->db, "list instances"));
  return instances;
}

Status StateStore::upsert_job(const JobRecord& job) {
  Statement upsert(impl_->db,
                   "INSERT INTO jobs (id, run_id, entry_index, kind, input, state, error, outputs, updated_at, "
                   "input_bytes, expected_s, work_s, instance_row) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                   "ON CONFLICT(id) DO UPDATE SET state=excluded.state, error=excluded.error, "
                   "outputs=excluded.outputs, updated_at=excluded.updated_at, input_bytes=excluded.input_bytes, "
                   "expected_s=excluded.expected_s, work_s=excluded.work_s, instance_row=excluded.instance_row");
  upsert.bind(job.id).bind(job.run_id).bind(std::int64_t{job.entry_index}).bind(job.kind).bind(job.input)
      .bind(job.state).bind(job.error).bind(nlohmann::json(job.outputs).dump()).bind(now_unix())
      .bind(job.input_bytes).bind(job.expected_s).bind(job.work_s).bind(job.instance_row);
  return impl_->run(upsert, "record job " + job.id);
}

Result<std::vector<JobRecord>> StateStore::list_jobs(const std::string& run_id) {
  Statement select(impl_->db,
                   "SELECT id, run_id, entry_index, kind, input, state, error, outputs, updated_at, "
                   "input_bytes, expected_s, work_s, instance_row FROM jobs WHERE run_id=? ORDER BY rowid");
  if (!select.ok()) return fail(database_error(impl_->db, "list jobs"));
  select.bind(run_id);
  std::vector<JobRecord> jobs;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    JobRecord job;
    job.id = select.text(0);
    job.run_id = select.text(1);
    job.entry_index = static_cast<int>(select.integer(2));
    job.kind = select.text(3);
    job.input = select.text(4);
    job.state = select.text(5);
    job.error = select.text(6);
    auto outputs = nlohmann::json::parse(select.text(7), nullptr, false);
    if (outputs.is_array())
      for (const auto& output : outputs)
        if (output.is_string()) job.outputs.push_back(output.get<std::string>());
    job.updated_at = select.integer(8);
    if (auto bytes = select.optional_integer(9); bytes && *bytes >= 0)
      job.input_bytes = static_cast<std::uint64_t>(*bytes);
    job.expected_s = select.optional_real(10);
    job.work_s = select.optional_real(11);
    job.instance_row = select.optional_integer(12);
    jobs.push_back(std::move(job));
  }
  if (rc != SQLITE_DONE) return fail(database_error(impl_->db, "list jobs"));
  return jobs;
}

Result<std::vector<PastInstance>> StateStore::past_instances(int per_provider) {
  // Billing ends when the provider accepts the destroy. Only a run's own
  // teardown stamps that: an instance kept and later removed by `ferry
  // down` or `ferry gc` says nothing about a run's overhead. The agent's
  // work is the jobs it ran (last, when a job moved); an instance with a job
  // of unknown work (canceled by Ctrl-C or a limit) would count that work
  // as overhead, so it is left out.
  // Whole runs, newest first, until they hold `per_provider` instances: a
  // run's instances before the window fills, and every other one of the
  // run that fills it.
  Statement select(impl_->db,
                   "WITH eligible AS (SELECT id, run_id, provider, created_ms, ready_ms, destroy_ms FROM instances "
                   "WHERE provider_id != '' AND state = 'destroyed' AND created_ms IS NOT NULL "
                   "AND destroy_ms IS NOT NULL AND gone_ms IS NOT NULL AND NOT EXISTS "
                   "(SELECT 1 FROM jobs WHERE jobs.instance_row = instances.id AND jobs.work_s IS NULL)), "
                   "runs AS (SELECT provider, run_id, COUNT(*) AS instances, MAX(id) AS newest_id "
                   "FROM eligible GROUP BY provider, run_id), "
                   "windowed AS (SELECT provider, run_id, COALESCE(SUM(instances) OVER (PARTITION BY provider "
                   "ORDER BY newest_id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before "
                   "FROM runs) "
                   "SELECT e.provider, e.destroy_ms - e.created_ms, e.ready_ms IS NOT NULL, "
                   "(SELECT COALESCE(SUM(work_s), 0) FROM jobs WHERE jobs.instance_row = e.id), e.run_id "
                   "FROM eligible e JOIN windowed w ON w.provider = e.provider AND w.run_id = e.run_id "
                   "WHERE w.before < ? ORDER BY e.id DESC");
  if (!select.ok()) return fail(database_error(impl_->db, "read instance history"));
  select.bind(std::int64_t{per_provider});
  std::vector<PastInstance> instances;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    PastInstance instance;
    instance.provider = select.text(0);
    instance.billed_s = static_cast<double>(select.integer(1)) / 1000.0;
    instance.came_up = select.integer(2) != 0;
    instance.agent_work_s = select.real(3);
    instance.run_id = select.text(4);
    instances.push_back(std::move(instance));
  }
  if (rc != SQLITE_DONE) return fail(database_error(impl_->db, "read instance history"));
  return instances;
}

Result<std::vector<PastJob>> StateStore::past_jobs(int per_kind) {
  Statement select(impl_->db,
                   "SELECT kind, expected_s, work_s FROM (SELECT rowid AS position, kind, expected_s, work_s, "
                   "ROW_NUMBER() OVER (PARTITION BY kind ORDER BY rowid DESC) AS newest FROM jobs "
                   "WHERE state = 'succeeded' AND expected_s IS NOT NULL AND work_s IS NOT NULL) "
                   "WHERE newest <= ? ORDER BY position DESC");
  if (!select.ok()) return fail(database_error(impl_->db, "read job history"));
  select.bind(std::int64_t{per_kind});
  std::vector<PastJob> jobs;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    PastJob job;
    job.kind = select.text(0);
    job.expected_s = select.real(1);
    job.work_s = select.real(2);
    jobs.push_back(std::move(job));
  }
  if (rc != SQLITE_DONE) return fail(database_error(impl_->db, "read job history"));
  return jobs;
}

}  // namespace ferry::controller
