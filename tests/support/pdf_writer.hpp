// pdf_of_pages: a small valid PDF built by hand (A4 pages, one content stream each, a correct
// cross-reference table), so tests and benchmarks get real multi-page PDFs without a tool.
#pragma once

#include <array>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace ictcore::test {

// One A4 page (595x842 pt) per content stream. The font resource /F1 (Helvetica) is
// available to every page.
inline std::string pdf_of_pages(const std::vector<std::string>& contents) {
    const std::size_t pages = contents.size();
    const std::string font_ref = std::to_string(3 + 2 * pages) + " 0 R";
    std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
    std::vector<std::size_t> offsets;  // of objects 1..n
    auto object = [&](const std::string& body) {
        offsets.push_back(pdf.size());
        pdf += std::to_string(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
    };
    object("<< /Type /Catalog /Pages 2 0 R >>");
    std::string kids;
    for (std::size_t k = 0; k < pages; ++k) kids += std::to_string(3 + 2 * k) + " 0 R ";
    object("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages) + " >>");
    for (std::size_t k = 0; k < pages; ++k) {
        object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 " + font_ref +
               " >> >> /Contents " + std::to_string(4 + 2 * k) + " 0 R >>");
        object("<< /Length " + std::to_string(contents[k].size()) + " >>\nstream\n" + contents[k] + "\nendstream");
    }
    object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    const std::size_t xref = pdf.size();
    pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
    for (const std::size_t off : offsets) {
        std::array<char, 32> line{};
        std::snprintf(line.data(), line.size(), "%010zu 00000 n \n", off);
        pdf += line.data();
    }
    pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
           std::to_string(xref) + "\n%%EOF\n";
    return pdf;
}

}  // namespace ictcore::test
