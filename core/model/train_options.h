#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/catalogue/catalogue.h"

namespace perfcast {

class PerfcastModel;

// A training may reuse an earlier model's cross-fit while the curves it adds since the fold
// models were grown are at most this share of those they were grown on (docs/METHOD.md §5,
// "Reusing the cross-fit").
inline constexpr double kMaxCrossFitGrowth = 0.25;

struct TrainOptions {
  uint64_t seed = 42;
  // Threads a training may use: the cross-fit's models train this many at once, on one XGBoost
  // thread each; the served model and the error predictor on this many XGBoost threads. The
  // bundle does not depend on it. One by default: OpenMP workers spin while they wait, which on
  // a machine shared with serving threads or parallel tests costs more than the second thread
  // gains, and each model training at once holds its own rows and histograms.
  int threads = 1;
  // Simulated annealing over each configuration's training subsets (docs/METHOD.md §3): moves
  // per configuration, and a safety cap on the wall time of the whole exploration. Bundles are
  // reproducible for a seed as long as the cap is not reached.
  int annealing_moves_per_configuration = 8;
  absl::Duration annealing_time_limit = absl::Seconds(10);
  // Datasheet facts about hardware, models and precisions (data/catalogue/). With one, the model
  // also learns from physical ceilings, scales anchors of other configurations by them, carries
  // the catalogue in its bundle, and refuses a configuration whose hardware or model neither the
  // data nor the catalogue knows. Without one, none of that.
  std::shared_ptr<const Catalogue> catalogue;
  // Called from the training thread as each stage of a training ends: (stages done, stage
  // count, the stage that comes next or "" after the last). May be empty.
  std::function<void(int done, int total, absl::string_view next)> progress;
  // Keep the cross-fit's fold models with the model, for a later training to reuse: a server
  // whose refits reuse them. Off, the model does not hold them in memory.
  bool keep_cross_fit = false;
  // A model trained earlier, in this process and with keep_cross_fit, on data that this
  // training's data extend (a server's serving model at a refit). Its cross-fit's fold models
  // then predict the held-out errors instead of new ones being grown, which takes most of a
  // training's time: each curve, configuration and hardware type they trained around keeps its
  // fold, so none is predicted by a model that trained on it, and what was added since no fold
  // model saw. Reused only under the same seed and catalogue, when no curve was removed, while
  // the curves added since the fold models were grown are at most kMaxCrossFitGrowth of those
  // they were grown on; names they never saw are no reason to grow them, since no fold model
  // trained on them. Otherwise the cross-fit is grown anew (PerfcastModel::cross_fit_source says
  // which and why). The bundle then depends on that history, not on the data and seed alone.
  std::shared_ptr<const PerfcastModel> reuse_cross_fit_of;
};

}  // namespace perfcast
