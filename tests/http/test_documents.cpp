// Fax documents over HTTP: a multi-page PDF made by the test becomes a fax TIFF of as many
// pages; GET media returns the PDF; bad uploads are refused and change nothing.
#include "helpers.hpp"
#include "pdf_writer.hpp"

namespace {

// A PDF with `pages` A4 pages, each with a black rectangle.
std::string make_pdf(int pages) {
    std::vector<std::string> contents;
    for (int p = 0; p < pages; ++p)
        contents.push_back("0 0 0 rg " + std::to_string(100 + 50 * p) + " 400 200 200 re f");
    return ictcore::test::pdf_of_pages(contents);
}

}  // namespace

TEST_CASE("documents: PDF to fax TIFF, PDF back, refusals change nothing") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t id =
        created_id(admin.post("/messages/documents", json::object{{"name", "invoice"}}), "document_id");
    const std::string item = "/messages/documents/" + std::to_string(id);
    const std::string media = item + "/media";
    check_error(admin.get(media), 404);

    const std::string pdf = make_pdf(3);
    REQUIRE_STATUS(admin.put_raw(media, pdf, "application/pdf"), 200);
    json::object d = as_object(admin.get(item));
    CHECK(str_field(d, "type") == "pdf");
    CHECK(int_field(d, "pages") == 3);
    CHECK(int_field(d, "size_x") == 1728);
    CHECK(member(d, "resolution_x").to_number<double>() == doctest::Approx(204));
    CHECK(member(d, "resolution_y").to_number<double>() == doctest::Approx(196));

    Response r = admin.get(media);
    REQUIRE_STATUS(r, 200);
    CHECK(contains_ci(r.header("Content-Type").value_or(""), "application/pdf"));
    CHECK(r.body == pdf);

    check_error(admin.put_raw(media, "", "application/pdf"), 411);
    check_error(admin.put_raw(media, "just some text", "application/pdf"), 415);
    check_error(admin.put_raw(media, pdf, "image/png"), 415);
    check_error(admin.put_raw(media, pdf.substr(0, pdf.size() / 3), "application/pdf"), 412);
    d = as_object(admin.get(item));
    CHECK(int_field(d, "pages") == 3);
    CHECK(admin.get(media).body == pdf);

    REQUIRE_STATUS(admin.put_raw(media, make_pdf(1), "application/octet-stream"), 200);
    CHECK(int_field(as_object(admin.get(item)), "pages") == 1);
    REQUIRE(is_true(admin.del(item)));
    check_error(admin.get(media), 404);
}
