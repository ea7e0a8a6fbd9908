// Statements of the campaign runner: its walk through the group, its counters and status,
// and what a stop or a delete leaves behind. All unscoped: the service checked ownership.
#pragma once

#include "store/connection.hpp"

#include <ictcore/campaign.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/transmission.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::store {

// A campaign with the runner's own columns.
struct CampaignRow {
    Campaign campaign;
    std::int64_t sent = 0;          // transmissions created by the campaign
    std::int64_t last_contact = 0;  // the group walk has passed every contact id up to this one
};
std::optional<CampaignRow> find_campaign_row(Connection& c, std::int64_t campaign_id);

// Ids of the campaigns whose status is running.
std::vector<std::int64_t> running_campaigns(Connection& c);

void set_campaign_status(Connection& c, std::int64_t campaign_id, std::string_view status,
                         const std::optional<std::string>& reason);
// Marks the campaign completed; contact_total becomes the number of contacts it reached.
void complete_campaign(Connection& c, std::int64_t campaign_id);

// Contacts of the group the campaign has no transmission for.
std::int64_t count_unreached(Connection& c, std::int64_t campaign_id, std::int64_t group_id);
// Up to `limit` of them with a contact id above `after`, in contact id order.
std::vector<Contact> unreached_contacts(Connection& c, std::int64_t campaign_id, std::int64_t group_id,
                                        std::int64_t after, std::int64_t limit);
// Transmissions of the campaign put back to wait by a stop (status pending).
std::vector<Transmission> waiting_transmissions(Connection& c, std::int64_t campaign_id, std::int64_t limit);
// Automatic retries the campaign's transmissions await: (transmission_id, next_run).
std::vector<std::pair<std::int64_t, std::int64_t>> campaign_retries(Connection& c, std::int64_t campaign_id);

// Records `created` new transmissions and where the walk stands; contact_total never falls
// below what was sent.
void advance_campaign(Connection& c, std::int64_t campaign_id, std::int64_t created, std::int64_t last_contact);
// Sets contact_total to what was sent plus the group's contacts not reached yet.
void recount_campaign(Connection& c, std::int64_t campaign_id, std::int64_t group_id, std::int64_t sent);
// The number of contacts in a group.
std::int64_t group_size(Connection& c, std::int64_t group_id);

// Counts a transmission of the campaign that reached a final status (completed, failed or
// invalid). Nothing happens when the campaign is gone.
void count_campaign_outcome(Connection& c, std::int64_t campaign_id, std::string_view transmission_status);
std::optional<CampaignProgress> campaign_progress(Connection& c, std::int64_t campaign_id);

// Undoes an attempt that never reached a gateway (the campaign stopped first): its spool
// goes, and the transmission waits as pending with the try given back. When the campaign is
// gone meanwhile, the transmission (which never reached anyone) goes too.
void put_back_attempt(Connection& c, std::int64_t spool_id, std::int64_t transmission_id);

// Before a campaign is deleted: transmissions that never reached anyone go, the others stay
// detached from it.
void detach_campaign_transmissions(Connection& c, std::int64_t campaign_id);

// Removes the campaign's schedules (of one action, or all); returns how many there were.
int delete_campaign_schedules(Connection& c, std::int64_t campaign_id, std::optional<std::string_view> action);

}  // namespace ictcore::store
