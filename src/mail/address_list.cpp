// RFC 5322 address lists read in two steps: a tokenizer that knows quoting, comments and the
// specials, and a parser that turns phrases, angle addresses and groups into mailboxes. Both
// only ever move forward through the input, so any byte sequence ends in linear time.
#include "mail/address_list.hpp"

#include "mail/charset.hpp"
#include "mail/rfc2047.hpp"

#include <algorithm>

namespace ictcore::mail {

namespace {

struct Token {
    enum Kind { word, special } kind = word;
    std::string text;           // a word's text, quotes removed and escapes undone
    char symbol = 0;            // a special's character
    bool quoted = false;        // the word was a quoted-string
    bool space_before = false;  // white space or a comment preceded it
    bool unclosed = false;      // a quoted-string that ran to the end of the value
};

bool is_space(unsigned char c) { return c <= 0x20 || c == 0x7f; }

bool is_special(char c) { return c == '<' || c == '>' || c == ',' || c == ':' || c == ';'; }

std::vector<Token> tokenize(std::string_view s) {
    std::vector<Token> tokens;
    bool space = false;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (is_space(static_cast<unsigned char>(c))) {
            space = true;
            ++i;
        } else if (c == '(') {
            // A comment, possibly nested, is white space; an unclosed one runs to the end.
            int depth = 0;
            for (; i < s.size(); ++i) {
                if (s[i] == '\\') {
                    ++i;
                } else if (s[i] == '(') {
                    ++depth;
                } else if (s[i] == ')' && --depth == 0) {
                    ++i;
                    break;
                }
            }
            space = true;
        } else if (c == '"') {
            Token t{Token::word, {}, 0, true, space, false};
            for (++i; i < s.size() && s[i] != '"'; ++i) {
                if (s[i] == '\\' && i + 1 < s.size()) ++i;
                // Folding and control bytes never reach a name or an address (they would reach
                // the store and, from there, other headers).
                if (is_space(static_cast<unsigned char>(s[i]))) {
                    if (!t.text.empty() && t.text.back() != ' ') t.text += ' ';
                    continue;
                }
                t.text += s[i];
            }
            if (i < s.size())
                ++i;  // the closing quote
            else
                t.unclosed = true;
            tokens.push_back(std::move(t));
            space = false;
        } else if (is_special(c)) {
            tokens.push_back(Token{Token::special, {}, c, false, space, false});
            space = false;
            ++i;
        } else {
            Token t{Token::word, {}, 0, false, space, false};
            while (i < s.size() && !is_space(static_cast<unsigned char>(s[i])) && !is_special(s[i]) && s[i] != '"' &&
                   s[i] != '(') {
                t.text += s[i++];
            }
            tokens.push_back(std::move(t));
            space = false;
        }
    }
    return tokens;
}

// An addr-spec from its words, quoted local parts written back with their quotes; white space
// and comments inside it (obsolete syntax) are dropped.
std::string address_text(const std::vector<Token>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!w.quoted) {
            out += w.text;
            continue;
        }
        out += '"';
        for (char c : w.text) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out;
}

// A display name: words joined by single spaces where the sender had space, then RFC 2047
// words decoded.
std::string display_text(const std::vector<Token>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty() && w.space_before) out += ' ';
        out += w.text;
    }
    return decode_header_text(out);
}

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

class ListParser {
public:
    explicit ListParser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

    std::vector<MailAddress> parse() {
        for (pos_ = 0; pos_ < tokens_.size(); ++pos_) {
            const Token& t = tokens_[pos_];
            if (t.kind == Token::word) {
                if (!angle_done_) phrase_.push_back(t);
                continue;
            }
            switch (t.symbol) {
                case '<':
                    angle_address();
                    break;
                case ':':
                    // "name:" opens a group; its name is not an address.
                    phrase_.clear();
                    angle_done_ = false;
                    break;
                case ',':
                case ';':
                    end_member();
                    break;
                default:
                    break;  // a stray '>'
            }
        }
        end_member();
        return std::move(out_);
    }

private:
    // "<" [route ":"] addr-spec ">": an unclosed angle address runs to the end.
    void angle_address() {
        std::vector<Token> words;
        for (++pos_; pos_ < tokens_.size(); ++pos_) {
            const Token& t = tokens_[pos_];
            if (t.kind == Token::word) {
                words.push_back(t);
            } else if (t.symbol == '>') {
                break;
            } else if (t.symbol == ':') {
                words.clear();  // the end of an obsolete source route ("@relay,@relay2:")
            }
        }
        emit(address_text(words), display_text(phrase_));
        phrase_.clear();
        angle_done_ = true;
    }

    // The end of a list member: a phrase with no angle address is a bare addr-spec.
    void end_member() {
        // A quote that never closed swallowed the rest of the list: nothing in it is an address.
        const bool unclosed = std::any_of(phrase_.begin(), phrase_.end(), [](const Token& t) { return t.unclosed; });
        if (!angle_done_ && !phrase_.empty() && !unclosed) emit(address_text(phrase_), {});
        phrase_.clear();
        angle_done_ = false;
    }

    void emit(std::string address, std::string display_name) {
        // Stored and written into JSON: never anything but UTF-8 (RFC 6532 allows UTF-8 addresses).
        address = valid_utf8(trim(address));
        // An address must have a local part; "@domain" and "" are not mailboxes.
        if (address.empty() || address.front() == '@') return;
        out_.push_back(MailAddress{std::move(address), trim(display_name)});
    }

    std::vector<Token> tokens_;
    std::size_t pos_ = 0;
    std::vector<Token> phrase_;
    bool angle_done_ = false;  // this member's angle address was read; the rest is ignored
    std::vector<MailAddress> out_;
};

}  // namespace

std::vector<MailAddress> parse_address_list(std::string_view value) { return ListParser(tokenize(value)).parse(); }

}  // namespace ictcore::mail
