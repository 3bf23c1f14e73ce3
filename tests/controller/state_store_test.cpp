#include "controller/state_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include <cstdlib>
#include <optional>
#include <vector>

#include "tests/support/files.hpp"

namespace ferry::controller {
namespace {

RunRecord sample_run(const std::string& id, UnixSeconds started) {
  RunRecord run;
  run.id = id;
  run.name = "stems";
  run.manifest_path = "/music/stems.yaml";
  run.provider = "local";
  run.output_dir = "/music/results";
  run.state = RunState::starting;
  run.jobs_total = 2;
  run.started_at = started;
  return run;
}

TEST(StateStore, CreatesFolderPrivateToTheUser) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state" / "ferry" / "state.db");
  ASSERT_TRUE(store) << store.error().describe();
  struct stat info {};
  ASSERT_EQ(::stat((dir / "state" / "ferry").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(StateStore, DefaultPathFollowsXdgStateHome) {
  const char* saved = std::getenv("XDG_STATE_HOME");
  std::string previous = saved ? saved : "";
  ::setenv("XDG_STATE_HOME", "/somewhere/state", 1);
  auto path = StateStore::default_path();
  ::unsetenv("XDG_STATE_HOME");
  auto fallback = StateStore::default_path();
  if (saved) ::setenv("XDG_STATE_HOME", previous.c_str(), 1);
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, "/somewhere/state/ferry/state.db");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->filename(), "state.db");
  EXPECT_NE(fallback->string().find(".local/state/ferry"), std::string::npos);
}

TEST(StateStore, RunsRoundTripAndListNewestFirst) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("old", 1000)));
  ASSERT_TRUE(store->create_run(sample_run("new", 2000)));
  auto run = sample_run("old", 1000);
  run.state = RunState::succeeded;
  run.jobs_done = 2;
  run.finished_at = 1100;
  run.message = "all good";
  ASSERT_TRUE(store->update_run(run));

  auto runs = store->list_runs();
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, "new");
  EXPECT_FALSE((*runs)[0].finished_at);
  const auto& old = (*runs)[1];
  EXPECT_EQ(old.state, RunState::succeeded);
  EXPECT_EQ(old.jobs_done, 2);
  EXPECT_EQ(old.finished_at, 1100);
  EXPECT_EQ(old.message, "all good");
  EXPECT_EQ(old.output_dir, "/music/results");
}

TEST(StateStore, DuplicateRunIdIsRefused) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r1", 1)));
  EXPECT_FALSE(store->create_run(sample_run("r1", 2)));
}

TEST(StateStore, UpdatingAnUnknownRunIsNotFound) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  auto updated = store->update_run(sample_run("ghost", 1));
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::not_found);
}

TEST(StateStore, InstanceIntentIsRecordedBeforeItsProviderId) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r1", 1)));
  auto row = store->record_intended_instance("r1", "local");
  ASSERT_TRUE(row);
  auto intended = store->list_instances("r1");
  ASSERT_TRUE(intended);
  ASSERT_EQ(intended->size(), 1u);
  EXPECT_EQ((*intended)[0].state, "intended");
  EXPECT_EQ((*intended)[0].provider_id, "");

  ASSERT_TRUE(store->set_instance_created(*row, "local-4242"));
  ASSERT_TRUE(store->set_instance_state(*row, "running", "http://127.0.0.1:5000"));
  ASSERT_TRUE(store->set_instance_state(*row, "destroyed"));
  auto instances = store->list_instances("r1");
  ASSERT_TRUE(instances);
  EXPECT_EQ((*instances)[0].provider_id, "local-4242");
  EXPECT_EQ((*instances)[0].state, "destroyed");
  EXPECT_EQ((*instances)[0].endpoint, "http://127.0.0.1:5000");
  EXPECT_TRUE((*instances)[0].destroyed_at);
}

TEST(StateStore, JobsAreUpsertedById) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r1", 1)));
  JobRecord job;
  job.id = "r1-e1-i1";
  job.run_id = "r1";
  job.kind = "convert";
  job.input = "/music/a.wav";
  job.state = "planned";
  ASSERT_TRUE(store->upsert_job(job));
  job.state = "succeeded";
  job.outputs = {"/music/results/a.mp3"};
  ASSERT_TRUE(store->upsert_job(job));
  auto jobs = store->list_jobs("r1");
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, "succeeded");
  EXPECT_EQ((*jobs)[0].outputs, std::vector<std::string>{"/music/results/a.mp3"});
  EXPECT_EQ((*jobs)[0].input, "/music/a.wav");
}

TEST(StateStore, SecondOpenOfTheSameDatabaseSeesTheFirstOnesWrites) {
  test::TempDir dir;
  auto first = StateStore::open(dir / "state.db");
  ASSERT_TRUE(first);
  auto second = StateStore::open(dir / "state.db");
  ASSERT_TRUE(second) << second.error().describe();
  ASSERT_TRUE(first->create_run(sample_run("shared", 5)));
  auto found = second->find_run("shared");
  ASSERT_TRUE(found);
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->name, "stems");
  ASSERT_TRUE(second->create_run(sample_run("other", 6)));
  auto runs = first->list_runs();
  ASSERT_TRUE(runs);
  EXPECT_EQ(runs->size(), 2u);
}

TEST(StateStore, UnopenablePathIsAnIoErrorNamingIt) {
  test::TempDir dir;
  test::write_text(dir / "file", "not a folder");
  auto store = StateStore::open(dir / "file" / "state.db");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::io_error);
  EXPECT_NE(store.error().message.find((dir / "file").string()), std::string::npos);
}

TEST(StateStore, RunStateNamesRoundTrip) {
  for (auto state : {RunState::planned, RunState::starting, RunState::running, RunState::succeeded, RunState::failed,
                     RunState::interrupted, RunState::teardown_failed})
    EXPECT_EQ(run_state_from_string(to_string(state)), state);
  EXPECT_FALSE(run_state_from_string("exploded"));
}

TEST(StateStore, InstancesKeepTheirPriceAndCostUntilDestroyed) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r", 1000)));
  auto row = store->record_intended_instance("r", "vast", 0.36);
  ASSERT_TRUE(row);
  auto instances = store->list_instances("r");
  ASSERT_TRUE(instances);
  ASSERT_EQ(instances->size(), 1u);
  InstanceRecord instance = instances->front();
  EXPECT_DOUBLE_EQ(instance.price_per_hour, 0.36);
  EXPECT_DOUBLE_EQ(instance_cost(instance, instance.created_at + 3600), 0.0) << "never created: nothing billed";
  instance.provider_id = "42";
  EXPECT_NEAR(instance_cost(instance, instance.created_at + 3600), 0.36, 1e-9);
  instance.destroyed_at = instance.created_at + 1800;
  EXPECT_NEAR(instance_cost(instance, instance.created_at + 3600), 0.18, 1e-9) << "billing ends when destroyed";
}

// A database as an older ferry left it: the tables every schema has (runs,
// and jobs as schema 1 made them, with run 'old'), then `versioned_sql`,
// which records its versions and makes its instances table.
void write_older_database(const std::filesystem::path& path, const char* versioned_sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string sql = std::string(R"sql(
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, manifest_path TEXT NOT NULL,
        provider TEXT NOT NULL, output_dir TEXT NOT NULL, state TEXT NOT NULL,
        jobs_total INTEGER NOT NULL DEFAULT 0, jobs_done INTEGER NOT NULL DEFAULT 0,
        jobs_failed INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL, finished_at INTEGER,
        message TEXT NOT NULL DEFAULT '');
      CREATE TABLE jobs (id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id),
        entry_index INTEGER NOT NULL, kind TEXT NOT NULL, input TEXT NOT NULL, state TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '', outputs TEXT NOT NULL DEFAULT '[]', updated_at INTEGER NOT NULL);
      INSERT INTO runs (id, name, manifest_path, provider, output_dir, state, started_at)
        VALUES ('old', 'old', '/m.yaml', 'vast', '/out', 'succeeded', 1000);
)sql") + versioned_sql;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(StateStore, OpensADatabaseOfTheFirstSchemaAndAddsPrices) {
  test::TempDir dir;
  const auto path = dir / "state.db";
  ASSERT_NO_FATAL_FAILURE(write_older_database(path, R"sql(
      INSERT INTO schema_version VALUES (1);
      CREATE TABLE instances (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id),
        provider TEXT NOT NULL, provider_id TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
        endpoint TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, destroyed_at INTEGER);
      INSERT INTO instances (run_id, provider, provider_id, state, created_at)
        VALUES ('old', 'vast', '7', 'destroyed', 1000);
  )sql"));
  auto store = StateStore::open(path);
  ASSERT_TRUE(store) << store.error().describe();
  auto old = store->list_instances("old");
  ASSERT_TRUE(old);
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ(old->front().provider_id, "7");
  EXPECT_DOUBLE_EQ(old->front().price_per_hour, 0.0) << "older records have no price";
  ASSERT_TRUE(store->create_run(sample_run("new", 2000)));
  ASSERT_TRUE(store->record_intended_instance("new", "fly", 0.05));
  auto added = store->list_instances("new");
  ASSERT_TRUE(added);
  EXPECT_DOUBLE_EQ(added->front().price_per_hour, 0.05);
  // Opening again does not migrate twice.
  store = StateStore::open(path);
  ASSERT_TRUE(store) << store.error().describe();
}

TEST(StateStore, OpensADatabaseOfTheSecondSchemaAndAddsTimingsWithoutTouchingOldRows) {
  test::TempDir dir;
  const auto path = dir / "state.db";
  ASSERT_NO_FATAL_FAILURE(write_older_database(path, R"sql(
      INSERT INTO schema_version VALUES (1);
      INSERT INTO schema_version VALUES (2);
      CREATE TABLE instances (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id),
        provider TEXT NOT NULL, provider_id TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
        endpoint TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, destroyed_at INTEGER,
        price_per_hour REAL NOT NULL DEFAULT 0);
      INSERT INTO instances (run_id, provider, provider_id, state, created_at, destroyed_at, price_per_hour)
        VALUES ('old', 'vast', '7', 'destroyed', 1000, 1300, 0.4);
      INSERT INTO jobs (id, run_id, entry_index, kind, input, state, updated_at)
        VALUES ('old-e1-i1', 'old', 0, 'convert', '/a.wav', 'succeeded', 1200);
  )sql"));
  auto store = StateStore::open(path);
  ASSERT_TRUE(store) << store.error().describe();
  auto old_instances = store->list_instances("old");
  ASSERT_TRUE(old_instances);
  ASSERT_EQ(old_instances->size(), 1u);
  EXPECT_DOUBLE_EQ(old_instances->front().price_per_hour, 0.4);
  EXPECT_EQ(old_instances->front().destroyed_at, 1300);
  EXPECT_FALSE(old_instances->front().created_ms) << "an older record has no millisecond timings";
  auto old_jobs = store->list_jobs("old");
  ASSERT_TRUE(old_jobs);
  ASSERT_EQ(old_jobs->size(), 1u);
  EXPECT_FALSE(old_jobs->front().work_s);
  auto history = store->past_instances(50);
  ASSERT_TRUE(history);
  EXPECT_TRUE(history->empty()) << "records without timings are no history to calibrate on";

  // The new columns take writes, and a second open does not migrate again.
  ASSERT_TRUE(store->create_run(sample_run("new", 2000)));
  auto row = store->record_intended_instance("new", "vast", 0.4);
  ASSERT_TRUE(row);
  ASSERT_TRUE(store->set_instance_ready(*row));
  store = StateStore::open(path);
  ASSERT_TRUE(store) << store.error().describe();
  auto added = store->list_instances("new");
  ASSERT_TRUE(added);
  EXPECT_TRUE(added->front().created_ms);
  EXPECT_TRUE(added->front().ready_ms);
}

TEST(StateStore, ADatabaseOfANewerSchemaIsRefusedUntouched) {
  test::TempDir dir;
  const auto path = dir / "state.db";
  {
    auto store = StateStore::open(path);
    ASSERT_TRUE(store);
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99);", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto newer = StateStore::open(path);
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(newer.error().message.find("newer ferry (schema 99)"), std::string::npos) << newer.error().message;
}

TEST(StateStore, InstanceTimingsAreStampedOnceInMilliseconds) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r", 1)));
  const UnixMillis before = now_unix_ms();
  auto row = store->record_intended_instance("r", "vast", 0.2);
  ASSERT_TRUE(row);
  auto intended = store->list_instances("r");
  ASSERT_TRUE(intended);
  ASSERT_TRUE(intended->front().created_ms) << "the intent carries the moment the create call starts";
  const UnixMillis asked = *intended->front().created_ms;
  EXPECT_GE(asked, before);
  const UnixMillis returned = now_unix_ms();
  ASSERT_TRUE(store->set_instance_created(*row, "11"));
  ASSERT_TRUE(store->set_instance_ready(*row));
  auto first = store->list_instances("r");
  ASSERT_TRUE(first);
  const auto ready = first->front().ready_ms;
  ASSERT_TRUE(ready);
  ASSERT_TRUE(first->front().created_ms);
  EXPECT_GE(*first->front().created_ms, returned) << "billing starts when the provider answers the create";
  EXPECT_LE(*first->front().created_ms, *ready);
  EXPECT_FALSE(first->front().destroy_ms);
  EXPECT_FALSE(first->front().gone_ms);

  const UnixMillis destroy_called = now_unix_ms();
  ASSERT_TRUE(store->set_instance_destroy_accepted(*row));
  ASSERT_TRUE(store->set_instance_state(*row, "stopping"));
  auto stopping = store->list_instances("r");
  ASSERT_TRUE(stopping);
  ASSERT_TRUE(stopping->front().destroy_ms);
  EXPECT_FALSE(stopping->front().gone_ms) << "only a confirmed teardown is gone";
  const auto destroy = *stopping->front().destroy_ms;
  EXPECT_GE(destroy, destroy_called);

  ASSERT_TRUE(store->set_instance_ready(*row));
  ASSERT_TRUE(store->set_instance_destroy_accepted(*row));
  ASSERT_TRUE(store->set_instance_state(*row, "destroyed"));
  auto gone = store->list_instances("r");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->front().ready_ms, ready) << "the first READY stays";
  EXPECT_EQ(gone->front().destroy_ms, destroy) << "the first accepted destroy stays";
  ASSERT_TRUE(gone->front().gone_ms);
  EXPECT_GE(*gone->front().gone_ms, destroy);
}

TEST(StateStore, JobsKeepTheirSizePredictionWorkAndInstance) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r", 1)));
  JobRecord job;
  job.id = "r-e1-i1";
  job.run_id = "r";
  job.kind = "separate";
  job.input = "https://example.com/a.mp3";
  job.state = "planned";
  ASSERT_TRUE(store->upsert_job(job));
  auto planned = store->list_jobs("r");
  ASSERT_TRUE(planned);
  EXPECT_FALSE(planned->front().input_bytes);
  EXPECT_FALSE(planned->front().expected_s);
  job.state = "succeeded";
  job.input_bytes = 5'000'000'000ull;  // past 32 bits
  job.expected_s = 25005.0;
  job.work_s = 812.5;
  job.instance_row = 3;
  ASSERT_TRUE(store->upsert_job(job));
  auto done = store->list_jobs("r");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->front().input_bytes, 5'000'000'000ull);
  EXPECT_EQ(done->front().expected_s, 25005.0);
  EXPECT_EQ(done->front().work_s, 812.5);
  EXPECT_EQ(done->front().instance_row, 3);
}

// A job of run `run` on an input "/a.wav".
JobRecord job_of_run(const std::string& run, const std::string& id, const std::string& kind,
                     const std::string& state) {
  JobRecord job;
  job.id = id;
  job.run_id = run;
  job.kind = kind;
  job.input = "/a.wav";
  job.state = state;
  return job;
}

// One instance of run `run` at `provider`, created, torn down and confirmed
// gone, that ran jobs of the given work times; `came_up` false leaves out
// its READY.
void add_finished_instance(StateStore& store, const std::string& run, const std::string& provider,
                           std::vector<double> work, bool came_up = true) {
  auto row = store.record_intended_instance(run, provider, 0.5);
  ASSERT_TRUE(row);
  ASSERT_TRUE(store.set_instance_created(*row, provider + "-" + std::to_string(*row)));
  if (came_up) {
    ASSERT_TRUE(store.set_instance_ready(*row));
  }
  for (std::size_t i = 0; i < work.size(); ++i) {
    JobRecord job = job_of_run(run, run + "-" + std::to_string(*row) + "-" + std::to_string(i), "convert", "succeeded");
    job.expected_s = 2.0;
    job.work_s = work[i];
    job.instance_row = *row;
    ASSERT_TRUE(store.upsert_job(job));
  }
  ASSERT_TRUE(store.set_instance_destroy_accepted(*row));
  ASSERT_TRUE(store.set_instance_state(*row, "destroyed"));
}

TEST(StateStore, PastInstancesAreTheNewestFinishedOnesOfEachProviderWithTheirJobsWork) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r", 1)));
  add_finished_instance(*store, "r", "vast", {1.5, 2.0});
  add_finished_instance(*store, "r", "vast", {0.25});
  add_finished_instance(*store, "r", "vast", {}, false);
  add_finished_instance(*store, "r", "fly", {4.0});
  // Not history: still running, kept, kept and later removed by `ferry
  // down` (destroyed, but not by the run), never created, and one whose
  // job was canceled with its work unknown.
  auto live = store->record_intended_instance("r", "vast", 0.5);
  ASSERT_TRUE(live);
  ASSERT_TRUE(store->set_instance_created(*live, "live"));
  auto kept = store->record_intended_instance("r", "vast", 0.5);
  ASSERT_TRUE(kept);
  ASSERT_TRUE(store->set_instance_created(*kept, "kept"));
  ASSERT_TRUE(store->set_instance_ready(*kept));
  ASSERT_TRUE(store->set_instance_state(*kept, "kept"));
  auto downed = store->record_intended_instance("r", "vast", 0.5);
  ASSERT_TRUE(downed);
  ASSERT_TRUE(store->set_instance_created(*downed, "downed"));
  ASSERT_TRUE(store->set_instance_ready(*downed));
  ASSERT_TRUE(store->set_instance_state(*downed, "kept"));
  ASSERT_TRUE(store->set_instance_state(*downed, "destroyed"));
  ASSERT_TRUE(store->record_intended_instance("r", "vast", 0.5));
  auto interrupted = store->record_intended_instance("r", "vast", 0.5);
  ASSERT_TRUE(interrupted);
  ASSERT_TRUE(store->set_instance_created(*interrupted, "interrupted"));
  ASSERT_TRUE(store->set_instance_ready(*interrupted));
  JobRecord canceled = job_of_run("r", "canceled", "convert", "canceled");
  canceled.instance_row = *interrupted;  // its work is unknown
  ASSERT_TRUE(store->upsert_job(canceled));
  ASSERT_TRUE(store->set_instance_destroy_accepted(*interrupted));
  ASSERT_TRUE(store->set_instance_state(*interrupted, "destroyed"));

  auto all = store->past_instances(50);
  ASSERT_TRUE(all) << all.error().describe();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].provider, "fly") << "newest first";
  EXPECT_DOUBLE_EQ((*all)[0].agent_work_s, 4.0);
  EXPECT_FALSE((*all)[1].came_up);
  EXPECT_DOUBLE_EQ((*all)[1].agent_work_s, 0.0);
  EXPECT_DOUBLE_EQ((*all)[2].agent_work_s, 0.25);
  EXPECT_DOUBLE_EQ((*all)[3].agent_work_s, 3.5) << "the work of every job it ran";
  for (const auto& instance : *all) EXPECT_GE(instance.billed_s, 0.0);

  auto newest = store->past_instances(2);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->size(), 4u) << "whole runs: run r's three vast instances, though two were asked";
}

TEST(StateStore, PastInstancesComeInWholeRunsNewestFirst) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("old", 1)));
  ASSERT_TRUE(store->create_run(sample_run("new", 2)));
  add_finished_instance(*store, "old", "vast", {1.0});
  add_finished_instance(*store, "old", "vast", {1.0});
  add_finished_instance(*store, "new", "vast", {2.0});
  add_finished_instance(*store, "new", "vast", {2.0});
  add_finished_instance(*store, "new", "vast", {2.0});

  auto window = store->past_instances(2);
  ASSERT_TRUE(window) << window.error().describe();
  ASSERT_EQ(window->size(), 3u) << "the newest run fills the window and counts whole";
  for (const auto& instance : *window) EXPECT_EQ(instance.run_id, "new");
  auto wider = store->past_instances(4);
  ASSERT_TRUE(wider);
  ASSERT_EQ(wider->size(), 5u) << "the older run, whole, to reach four";
  EXPECT_EQ(wider->back().run_id, "old");
}

TEST(StateStore, PastJobsAreTheNewestSucceededOnesOfEachKindWithAPrediction) {
  test::TempDir dir;
  auto store = StateStore::open(dir / "state.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_run(sample_run("r", 1)));
  auto add = [&](const std::string& id, const std::string& kind, const std::string& state,
                 std::optional<double> expected, std::optional<double> work) {
    JobRecord job = job_of_run("r", id, kind, state);
    job.expected_s = expected;
    job.work_s = work;
    ASSERT_TRUE(store->upsert_job(job));
  };
  add("a", "convert", "succeeded", 2.0, 1.0);
  add("b", "convert", "succeeded", 2.0, 3.0);
  add("c", "separate", "succeeded", 60.0, 30.0);
  add("d", "convert", "failed", 2.0, 0.1);
  add("e", "convert", "succeeded", std::nullopt, 1.0);  // a URL: no prediction
  add("f", "convert", "succeeded", 2.0, std::nullopt);
  add("g", "convert", "succeeded", 4.0, 5.0);

  auto jobs = store->past_jobs(200);
  ASSERT_TRUE(jobs) << jobs.error().describe();
  ASSERT_EQ(jobs->size(), 4u);
  EXPECT_DOUBLE_EQ((*jobs)[0].work_s, 5.0) << "newest first";
  EXPECT_EQ((*jobs)[1].kind, "separate");
  auto newest = store->past_jobs(1);
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 2u) << "one per kind";
  EXPECT_DOUBLE_EQ((*newest)[0].expected_s, 4.0);
  EXPECT_EQ((*newest)[1].kind, "separate");
}

}  // namespace
}  // namespace ferry::controller
