#include "controller/state_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include <cstdlib>

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

TEST(StateStore, OpensADatabaseOfTheFirstSchemaAndAddsPrices) {
  test::TempDir dir;
  const auto path = dir / "state.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* first_schema = R"sql(
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version VALUES (1);
      CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, manifest_path TEXT NOT NULL,
        provider TEXT NOT NULL, output_dir TEXT NOT NULL, state TEXT NOT NULL,
        jobs_total INTEGER NOT NULL DEFAULT 0, jobs_done INTEGER NOT NULL DEFAULT 0,
        jobs_failed INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL, finished_at INTEGER,
        message TEXT NOT NULL DEFAULT '');
      CREATE TABLE instances (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id),
        provider TEXT NOT NULL, provider_id TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
        endpoint TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, destroyed_at INTEGER);
      CREATE TABLE jobs (id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id),
        entry_index INTEGER NOT NULL, kind TEXT NOT NULL, input TEXT NOT NULL, state TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '', outputs TEXT NOT NULL DEFAULT '[]', updated_at INTEGER NOT NULL);
      INSERT INTO runs (id, name, manifest_path, provider, output_dir, state, started_at)
        VALUES ('old', 'old', '/m.yaml', 'vast', '/out', 'succeeded', 1000);
      INSERT INTO instances (run_id, provider, provider_id, state, created_at)
        VALUES ('old', 'vast', '7', 'destroyed', 1000);
    )sql";
    ASSERT_EQ(sqlite3_exec(db, first_schema, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
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

}  // namespace
}  // namespace ferry::controller
