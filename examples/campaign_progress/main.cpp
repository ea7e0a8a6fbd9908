// campaign_progress: a bulk SMS campaign with a live progress bar, without polling.
//
// The program imports 200 contacts into a group, makes an SMS program, and runs a campaign of
// it over the group, paced by `cpm` (messages per minute), through the loopback provider a new
// install seeds. Core::campaigns().on_progress() reports the campaign's counters as
// transmissions end; the callback redraws a one-line bar. Exits 0 only when the campaign
// completed with every contact delivered once; non-zero on a timeout or any failure.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <ictcore/ictcore.hpp>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

constexpr int contact_count = 200;
// 12000 per minute: one every 5 ms, so the run takes about a second and the bar moves.
constexpr std::int64_t messages_per_minute = 12000;
constexpr auto time_limit = std::chrono::seconds(30);

// A fresh private directory under the system temp dir, removed again on scope exit.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ictcore-example-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

std::int64_t percent_of(const ictcore::CampaignProgress& p) {
    return p.contact_total > 0 ? p.contact_done * 100 / p.contact_total : 100;
}

// "[####################....................]  50%  100/200 done, 0 failed  running"
std::string bar(const ictcore::CampaignProgress& p) {
    constexpr std::int64_t width = 40;
    const auto filled = static_cast<std::size_t>(percent_of(p) * width / 100);
    std::string line = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    const auto percent = std::to_string(percent_of(p));
    line += std::string(3 - std::min<std::size_t>(3, percent.size()), ' ') + percent + "%  ";
    line += std::to_string(p.contact_done) + "/" + std::to_string(p.contact_total) + " done, " +
            std::to_string(p.failed) + " failed  " + p.status;
    return line;
}

// What the callback (on the engine's thread) hands to main(). Shared ownership: a call in
// progress may outlive the moment main() removes the listener.
struct Watch {
    std::int64_t campaign_id = 0;
    std::mutex mutex;
    std::condition_variable changed;
    std::optional<ictcore::CampaignProgress> last;
    int calls = 0;
    bool over() const {
        return last && (last->status == ictcore::campaign_status::completed ||
                        last->status == ictcore::campaign_status::broken);
    }
};

}  // namespace

int main() {
    try {
        ScratchDir dir;
        // A first start seeds one active loopback provider per service: SMS is delivered at once
        // (simulated), no gateway setup needed.
        ictcore::Core core(ictcore::Options{
            .data_dir = dir.path(),
            .admin_password = "example-admin",
            .password_cost = ictcore::PasswordCost::minimal,
        });
        const ictcore::Principal admin = core.auth().from_password("admin", "example-admin");

        // The audience: a group filled from CSV (phone,first_name) in one transaction.
        ictcore::Group group;
        group.name = "subscribers";
        const std::int64_t group_id = core.groups().create(admin, group);
        std::string csv = "phone,first_name\n";
        for (int i = 0; i < contact_count; ++i) {
            csv += std::to_string(12025550000LL + i) + ",Subscriber " + std::to_string(i + 1) + "\n";
        }
        const auto report = core.groups().import_csv(admin, group_id, csv);
        if (report.imported != contact_count) {
            std::cerr << "campaign_progress: imported " << report.imported << " contacts, expected " << contact_count
                      << "\n";
            return EXIT_FAILURE;
        }

        // The message: a text and the sendsms program that sends it.
        ictcore::Text text;
        text.name = "sale";
        text.data = "Spring sale: 20% off everything until Sunday. Reply STOP to opt out.";
        ictcore::Program program;
        program.name = "spring sale";
        program.text_id = core.texts().create(admin, text);
        const std::int64_t program_id = core.programs().create(admin, "sendsms", program);

        // The campaign: the program × the group, paced.
        ictcore::Campaign campaign;
        campaign.program_id = program_id;
        campaign.group_id = group_id;
        campaign.cpm = messages_per_minute;
        const std::int64_t campaign_id = core.campaigns().create(admin, campaign);

        // Progress without polling. The callback runs on the engine's thread: it only draws and
        // records; it must not call back into the library.
        auto watch = std::make_shared<Watch>();
        watch->campaign_id = campaign_id;
        core.campaigns().on_progress([watch](const ictcore::CampaignProgress& p) {
            if (p.campaign_id != watch->campaign_id) return;
            {
                std::lock_guard lock(watch->mutex);
                // Redrawn when the bar or the status changes, not on every call, so a log of the
                // output stays short.
                if (!watch->last || watch->last->status != p.status || percent_of(*watch->last) != percent_of(p)) {
                    std::cout << "\r" << bar(p) << std::flush;
                }
                watch->last = p;
                ++watch->calls;
            }
            watch->changed.notify_all();
        });

        const auto started = std::chrono::steady_clock::now();
        core.campaigns().start(admin, campaign_id);
        bool finished = false;
        {
            std::unique_lock lock(watch->mutex);
            finished = watch->changed.wait_for(lock, time_limit, [&] { return watch->over(); });
        }
        const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        core.campaigns().on_progress({});
        int calls = 0;
        {
            std::lock_guard lock(watch->mutex);
            calls = watch->calls;
        }
        std::cout << "\n";

        const ictcore::Campaign result = core.campaigns().get(admin, campaign_id);
        std::cout << "campaign " << campaign_id << ": " << result.status << " in " << elapsed << " s, "
                  << result.completed << " delivered, " << result.failed << " failed, " << calls << " progress calls\n";
        if (!finished) {
            std::cerr << "campaign_progress: the campaign did not end within " << time_limit.count() << " s\n";
            return EXIT_FAILURE;
        }
        if (result.reason) std::cerr << "campaign_progress: reason: " << *result.reason << "\n";
        const bool ok = result.status == ictcore::campaign_status::completed && result.completed == contact_count &&
                        result.failed == 0 && result.contact_done == contact_count && result.pending == 0 && calls >= 2;
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const ictcore::Error& e) {
        std::cerr << "\ncampaign_progress: " << ictcore::to_string(e.code()) << ": " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "\ncampaign_progress: " << e.what() << "\n";
    }
    return EXIT_FAILURE;
}
