#include "router/replica_selector.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace rhp::router {
namespace {

struct Replica {
  bool usable = true;
  std::uint32_t weight = 1;
  std::size_t outstanding = 0;
  std::int64_t credit = 0;
};

std::vector<ReplicaChoice> choicesOf(std::vector<Replica>& replicas) {
  std::vector<ReplicaChoice> out;
  for (auto& replica : replicas) {
    out.push_back({replica.usable, replica.weight, replica.outstanding, &replica.credit});
  }
  return out;
}

std::map<std::size_t, int> countPicks(std::vector<Replica>& replicas, Balance balance, int n) {
  std::map<std::size_t, int> picks;
  for (int i = 0; i < n; ++i) {
    auto choices = choicesOf(replicas);
    auto picked = pickReplica(choices, balance);
    if (picked) ++picks[*picked];
  }
  return picks;
}

TEST(ReplicaSelector, RoundRobinAlternatesEvenly) {
  std::vector<Replica> replicas(2);
  std::vector<std::size_t> order;
  for (int i = 0; i < 4; ++i) {
    auto choices = choicesOf(replicas);
    order.push_back(*pickReplica(choices, Balance::RoundRobin));
  }
  EXPECT_NE(order[0], order[1]);
  EXPECT_EQ(order[0], order[2]);
  EXPECT_EQ(order[1], order[3]);
}

TEST(ReplicaSelector, RoundRobinFollowsWeights) {
  std::vector<Replica> replicas(3);
  replicas[0].weight = 3;
  replicas[1].weight = 1;
  replicas[2].weight = 0;  // never
  auto picks = countPicks(replicas, Balance::RoundRobin, 400);
  EXPECT_EQ(picks[0], 300);
  EXPECT_EQ(picks[1], 100);
  EXPECT_EQ(picks.count(2), 0u);
}

TEST(ReplicaSelector, SkipsUnusableReplicasAndReportsWhenNoneIsLeft) {
  std::vector<Replica> replicas(2);
  replicas[0].usable = false;
  auto picks = countPicks(replicas, Balance::RoundRobin, 10);
  EXPECT_EQ(picks[1], 10);
  replicas[1].usable = false;
  auto choices = choicesOf(replicas);
  EXPECT_FALSE(pickReplica(choices, Balance::RoundRobin).has_value());
  EXPECT_FALSE(pickReplica(choices, Balance::LeastOutstanding).has_value());
  std::vector<ReplicaChoice> none;
  EXPECT_FALSE(pickReplica(none, Balance::RoundRobin).has_value());
}

TEST(ReplicaSelector, LeastOutstandingPrefersTheIdleReplicaPerUnitOfWeight) {
  std::vector<Replica> replicas(2);
  replicas[0].outstanding = 5;
  replicas[1].outstanding = 1;
  auto choices = choicesOf(replicas);
  EXPECT_EQ(*pickReplica(choices, Balance::LeastOutstanding), 1u);
  // 5 outstanding on weight 10 is less loaded than 1 on weight 1.
  replicas[0].weight = 10;
  choices = choicesOf(replicas);
  EXPECT_EQ(*pickReplica(choices, Balance::LeastOutstanding), 0u);
}

TEST(ReplicaSelector, LeastOutstandingSharesTiesRoundRobin) {
  std::vector<Replica> replicas(2);
  auto picks = countPicks(replicas, Balance::LeastOutstanding, 10);
  EXPECT_EQ(picks[0], 5);
  EXPECT_EQ(picks[1], 5);
}

}  // namespace
}  // namespace rhp::router
