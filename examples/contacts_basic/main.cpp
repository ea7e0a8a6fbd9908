// contacts_basic: open a Core on a scratch data directory, act as the admin user, create a
// group and two contacts, link them, list the group's members and check its contact_total.
// Exits 0 only when the group holds exactly the two contacts.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <ictcore/ictcore.hpp>
#include <iostream>
#include <stdexcept>
#include <string>

namespace {

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

ictcore::Contact make_contact(std::string first, std::string last, std::string phone, std::string email) {
    ictcore::Contact c;
    c.first_name = std::move(first);
    c.last_name = std::move(last);
    c.phone = std::move(phone);
    c.email = std::move(email);
    return c;
}

}  // namespace

int main() {
    try {
        ScratchDir dir;
        ictcore::Core core(ictcore::Options{
            .data_dir = dir.path(),
            .admin_password = "example-admin",
            .password_cost = ictcore::PasswordCost::minimal,
        });
        std::cout << "ictcore " << ictcore::version << ", data in " << dir.path().string() << "\n";

        // Every service call acts for a principal; the admin may do everything.
        const ictcore::Principal admin = core.auth().from_password("admin", "example-admin");

        ictcore::Group group;
        group.name = "Customers";
        group.description = "created by examples/contacts_basic";
        const std::int64_t group_id = core.groups().create(admin, group);

        const std::int64_t ada =
            core.contacts().create(admin, make_contact("Ada", "Lovelace", "+44 20 7946 0018", "ada@example.com"));
        const std::int64_t alan =
            core.contacts().create(admin, make_contact("Alan", "Turing", "+44 161 496 0753", "alan@example.com"));
        core.contacts().link(admin, ada, group_id);
        core.contacts().link(admin, alan, group_id);

        {
            // A cursor streams rows and holds a read connection: keep it in a short scope.
            auto members = core.groups().contacts(admin, group_id, ictcore::ListQuery{});
            std::cout << "group " << group_id << " \"" << group.name << "\" (" << members.total() << " members):\n";
            ictcore::Contact c;
            while (members.next(c)) {
                std::cout << "  contact " << c.contact_id << ": " << c.first_name << " " << c.last_name.value_or("")
                          << " <" << c.email.value_or("") << "> " << c.phone << "\n";
            }
        }

        const ictcore::Group stored = core.groups().get(admin, group_id);
        std::cout << "contact_total: " << stored.contact_total << "\n";
        return stored.contact_total == 2 ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const ictcore::Error& e) {
        std::cerr << "contacts_basic: " << ictcore::to_string(e.code()) << ": " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "contacts_basic: " << e.what() << "\n";
    }
    return EXIT_FAILURE;
}
