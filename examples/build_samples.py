"""Build the binary sample documents of the fictional company Northwind Loom.

The text of every generated document lives in this script, so L&D and
developers can edit it here and regenerate the files:

    python examples/build_samples.py

Writes, under examples/content/:

    expenses/expenses-and-travel-policy.pdf   (fpdf2, core font, Latin-1 only)
    security/information-security-basics.docx (python-docx)
    feedback/giving-feedback.pptx             (python-pptx)
    courses/customer-conversations-scorm12.zip (SCORM 1.2 package)

The output is reproducible: fixed creation dates and fixed timestamps inside
the zip containers, so rebuilding without text changes gives identical bytes.
Needs fpdf2, python-docx and python-pptx (the project's "test" extra).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

CONTENT = Path(__file__).resolve().parent / "content"

COMPANY = "Northwind Loom"
FIXED_DATE = datetime(2025, 9, 1, 9, 0, 0, tzinfo=timezone.utc)
ZIP_DATE = (2025, 9, 1, 9, 0, 0)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip container with fixed timestamps and permissions.

    python-docx and python-pptx stamp every part with the current time; this
    keeps the member order (``[Content_Types].xml`` must stay first) but makes
    the bytes independent of when the script ran. It also drops the template's
    thumbnail image, so the files contain no images at all.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as dst:
        for info in src.infolist():
            if info.filename == THUMBNAIL:
                continue
            member = src.read(info.filename)
            if info.filename == "_rels/.rels":
                member = re.sub(rb'<Relationship [^>]*Target="/?' + THUMBNAIL.encode()
                                + rb'"[^>]*/>', b"", member)
            _write_member(dst, info.filename, member)
    return out.getvalue()


THUMBNAIL = "docProps/thumbnail.jpeg"


def _write_member(zf: zipfile.ZipFile, name: str, data: bytes | str) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    if isinstance(data, str):
        data = data.encode("utf-8")
    zf.writestr(info, data)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"wrote {path.relative_to(CONTENT.parent)} ({len(data):,} bytes)")


# --------------------------------------------------------------------------
# 1. Expenses and travel policy (PDF)
# --------------------------------------------------------------------------
# Blocks: ("h1", text), ("h2", text), ("p", text), ("ul", [items]),
# ("table", [header, row, ...], col_widths). Core fonts only cover Latin-1,
# so amounts are written as "EUR 0.23"; the pound sign is Latin-1 and fine.

PDF_TITLE = "Expenses and travel policy"

PDF_COVER = [
    ("Document", "Expenses and travel policy"),
    ("Version", "4.2"),
    ("Effective from", "1 September 2025"),
    ("Applies to", "All employees of Northwind Loom B.V. and Northwind Loom Ltd; "
                   "section 10 applies to contractors and agency staff"),
    ("Owner", "Finance (finance@northwindloom.example)"),
    ("Approved by", "Chief Financial Officer"),
    ("Next review", "September 2026"),
]

PDF_CONTENTS = [
    "1. Purpose and principles",
    "2. Submitting a claim",
    "3. Approval and payment",
    "4. Booking travel",
    "5. Mileage",
    "6. Hotels",
    "7. Per diems (meal allowances)",
    "8. Client entertainment and gifts",
    "9. Corporate card",
    "10. Contractors and agency staff",
    "11. What is not reimbursed",
    "12. Contacts",
]

PDF_BODY = [
    ("h1", "1. Purpose and principles"),
    ("p", "This policy explains which business costs Northwind Loom pays for, how to "
          "claim them and who approves them. It applies to employees in the "
          "Netherlands and the United Kingdom and to remote employees elsewhere in "
          "Europe. We reimburse reasonable costs that you make for the company, so "
          "that you are neither better nor worse off."),
    ("p", "If a situation is not covered here, ask before you spend: "
          "expenses@northwindloom.example. Your manager cannot approve exceptions to "
          "the limits in this policy; only the budget holder (your department head) "
          "can, in writing and before the cost is made."),

    ("h1", "2. Submitting a claim"),
    ("ul", [
        "Claim in Atlas under Expenses > New claim. Add one line per expense and "
        "choose the right category (for example Rail, Hotel, Mileage, Per diem).",
        "Submit your claim within 30 days of the expense date. For a trip, the 30 "
        "days start on the day you return. Claims older than 90 days are not paid.",
        "Attach an itemised receipt or VAT invoice for every line except mileage and "
        "per diems. A card slip or bank statement on its own is not a receipt. A "
        "photo taken with the Atlas mobile app is enough; keep paper originals until "
        "the claim is paid.",
        "Missing receipt: add the missing-receipt declaration in Atlas. It is accepted "
        "for amounts up to EUR 50 (GBP 45), at most three times per calendar year.",
        "Submit one claim per trip, or one claim per month for small recurring items.",
        "Foreign currency: enter the amount in the original currency. Atlas converts "
        "it at the rate of the transaction date. If your bank charged a different "
        "amount, attach the statement line; bank and card fees are reimbursed.",
    ]),

    ("h1", "3. Approval and payment"),
    ("ul", [
        "Your line manager approves your claim in Atlas, normally within 5 working "
        "days. Claims above EUR 1,000 (GBP 850) in total also need the budget "
        "holder's approval.",
        "Claims approved by the 20th of the month are paid with that month's salary. "
        "Claims approved later are paid the following month. UK employees are paid "
        "in GBP, all others in EUR.",
        "Deliberately false or inflated claims are treated as fraud and can lead to "
        "dismissal.",
    ]),

    ("h1", "4. Booking travel"),
    ("p", "Book flights, rail journeys longer than 2 hours, hotels and hire cars "
          "through the travel desk (travel@northwindloom.example) or the booking tool "
          "in Atlas. Bookings made this way are paid centrally and do not need a "
          "claim. The travel desk also gives you the 24/7 emergency number of our "
          "travel agency before you leave."),
    ("h2", "Rail"),
    ("p", "Take the train when the journey is under 5 hours door to door, for "
          "example Rotterdam to Brussels, Paris or London. Travel standard (second) "
          "class; first class only if it is cheaper at the time of booking. For "
          "Rotterdam to Leeds, the overnight ferry between Rotterdam and Hull is an "
          "accepted alternative to flying; a standard cabin counts as your hotel for "
          "that night."),
    ("h2", "Flights"),
    ("ul", [
        "Flights under 6 hours (scheduled flight time of the longest leg) are booked "
        "in economy class.",
        "For flights of 6 hours or more, premium economy is allowed with your "
        "director's approval in advance.",
        "Business class is not allowed, except with the CFO's written approval for a "
        "documented medical reason.",
        "Book at least 14 days before departure where you can. One checked bag is "
        "reimbursed for trips of more than 2 nights or when you carry samples. Seat "
        "reservation is reimbursed up to EUR 20 per flight.",
    ]),
    ("h2", "Local transport"),
    ("p", "Use public transport first. A taxi or ride-hailing service is allowed when "
          "there is no reasonable public transport, between 22:00 and 06:00, or when "
          "you carry samples or equipment over 10 kg."),

    ("h1", "5. Mileage"),
    ("p", "If you use your own vehicle for business travel, you can claim a mileage "
          "allowance instead of fuel costs. Claim the shortest practical route and "
          "record the start and end address (or postcode) and the purpose of each "
          "journey in Atlas."),
    ("table", [
        ["Country", "Vehicle", "Rate"],
        ["Netherlands", "Car, motorbike or bicycle", "EUR 0.23 per km"],
        ["United Kingdom", "Car or van, first 10,000 business miles in the tax year",
         "45p per mile"],
        ["United Kingdom", "Car or van, above 10,000 business miles", "25p per mile"],
        ["United Kingdom", "Motorbike", "24p per mile"],
        ["United Kingdom", "Bicycle", "20p per mile"],
    ], (38, 88, 40)),
    ("ul", [
        "Your normal commute is not business travel and is never reimbursed. If you "
        "travel from home to somewhere other than your usual workplace, claim the "
        "distance minus your normal commute.",
        "Parking and tolls on business journeys are reimbursed with a receipt. "
        "Parking and speeding fines are not.",
        "The mileage rate covers fuel, wear and insurance. In the UK, your car "
        "insurance must include business use.",
    ]),

    ("h1", "6. Hotels"),
    ("p", "The caps below are per night, for a standard single room, including taxes "
          "and breakfast if it is part of the rate. Choose a hotel within reasonable "
          "distance of where you need to be. Private rentals (such as holiday "
          "apartments) are not allowed, because we cannot meet our duty of care "
          "there. For stays of more than 4 nights, ask the travel desk for a "
          "long-stay rate."),
    ("table", [
        ["City or region", "Cap per night"],
        ["Rotterdam", "EUR 140"],
        ["Amsterdam", "EUR 185"],
        ["Other Netherlands", "EUR 125"],
        ["Leeds", "GBP 105"],
        ["London", "GBP 190"],
        ["Manchester", "GBP 120"],
        ["Other United Kingdom", "GBP 100"],
        ["Paris", "EUR 200"],
        ["Brussels", "EUR 150"],
        ["Frankfurt", "EUR 160"],
        ["Milan", "EUR 170"],
        ["Other Europe", "EUR 150"],
        ["Outside Europe", "Ask the travel desk before booking"],
    ], (86, 80)),
    ("p", "During major trade fairs the travel desk may book above the cap. If you "
          "book yourself above the cap without the budget holder's prior written "
          "approval, only the cap is reimbursed."),

    ("h1", "7. Per diems (meal allowances)"),
    ("p", "A per diem is a fixed daily allowance for meals, drinks, snacks and small "
          "incidentals such as tips. It applies to business trips more than 30 km "
          "from your usual workplace (for remote employees: from home). No receipts "
          "are needed, but you cannot claim meal receipts on top of a per diem. "
          "Claim it in Atlas with the category Per diem and the dates and "
          "destination of the trip."),
    ("table", [
        ["Destination", "Full day (overnight trip)", "Departure and return day",
         "Day trip of 6 hours or more"],
        ["Netherlands", "EUR 45", "EUR 34", "EUR 15"],
        ["United Kingdom", "GBP 40", "GBP 30", "GBP 12"],
        ["Other countries", "Finance table in Atlas (default EUR 55)",
         "75% of the full day", "EUR 15"],
    ], (36, 52, 40, 38)),
    ("ul", [
        "When a meal is provided (by the hotel, a client, an event or on the plane "
        "as a full meal), reduce the day's per diem by 20% for breakfast, 30% for "
        "lunch and 40% for dinner.",
        "A day trip shorter than 6 hours away from your usual workplace gives no per "
        "diem.",
    ]),

    ("h1", "8. Client entertainment and gifts"),
    ("p", "Client entertainment needs your manager's approval before the event. The "
          "limit is EUR 75 (GBP 65) per person, including drinks and tips. List the "
          "names and companies of all attendees in the claim. Alcohol is reimbursed "
          "only as part of approved client entertainment, in moderation. Gifts to "
          "customers or suppliers are limited to EUR 50 per person per year and "
          "must be entered in the gifts register on the intranet."),

    ("h1", "9. Corporate card"),
    ("ul", [
        "A corporate card is issued to employees who travel for work at least 6 "
        "times a year, or whose role includes buying samples or materials. Your "
        "manager requests it from finance@northwindloom.example.",
        "The monthly limit is EUR 3,000 (GBP 2,500). Finance can raise it "
        "temporarily for a specific trip or purchase.",
        "Reconcile your statement in Atlas within 10 working days after the "
        "statement date, with a receipt for every transaction. Unreconciled cards "
        "are blocked after 30 days.",
        "The card is for business costs only. If you use it for a personal payment "
        "by mistake, tell expenses@northwindloom.example and repay the amount "
        "within 30 days.",
        "Lost or stolen card: block it immediately in the bank app or through the "
        "bank's card line, then email finance@northwindloom.example within 24 "
        "hours. Return the card when you leave the company.",
    ]),

    ("h1", "10. Contractors and agency staff"),
    ("p", "Contractors, freelancers and agency workers (together: contractors) are "
          "not employees. They do not use Atlas expenses and do not receive a "
          "corporate card. The following rules apply to them:"),
    ("ul", [
        "Contractors claim travel costs only through their agency, or on their own "
        "invoice if they are engaged directly, and only for travel that their "
        "Northwind Loom contact requested in writing in advance. Travel to their "
        "usual Northwind Loom office is never included.",
        "The same rates and classes apply as for employees: mileage rates from "
        "section 5, standard class rail and economy flights.",
        "No hotel costs are reimbursed unless the hotel was pre-approved in writing "
        "by the budget holder before booking. Pre-approved hotels are booked by the "
        "travel desk and billed to Northwind Loom directly, so they never appear on "
        "an agency invoice.",
        "Contractors receive no per diems, no client entertainment costs and no "
        "training budget.",
        "Agency invoices with travel costs that do not quote the written pre-approval "
        "reference are rejected by Finance.",
    ]),

    ("h1", "11. What is not reimbursed"),
    ("ul", [
        "Commuting between home and your usual workplace, including parking there",
        "Parking, speeding and other traffic fines, and clamping or towing charges",
        "Alcohol, except as part of approved client entertainment",
        "Minibar, in-room films, gym or spa charges and room upgrades",
        "Travel insurance (the company's business travel insurance covers you) and "
        "airline lounge access",
        "Lost or stolen personal belongings, and damage to your own vehicle",
        "Laundry and dry cleaning, unless the trip is longer than 5 nights",
        "Childcare, pet care and house-sitting while you travel",
        "Gifts and celebrations for colleagues (these come from the team event "
        "budget, not from expenses)",
        "Home office furniture and equipment (covered by the separate home working "
        "allowance)",
        "Costs for partners or family members who travel with you",
        "Tips above 10% of the bill",
    ]),

    ("h1", "12. Contacts"),
    ("table", [
        ["Question", "Contact"],
        ["Claims, receipts and Atlas expenses", "expenses@northwindloom.example"],
        ["Bookings, changes and travel emergencies", "travel@northwindloom.example"],
        ["Policy questions, exceptions and corporate cards",
         "finance@northwindloom.example"],
        ["Training costs and the training budget", "learning@northwindloom.example"],
    ], (86, 80)),
]


def build_pdf() -> bytes:
    from fpdf import FPDF

    class PolicyPDF(FPDF):
        def header(self):
            if self.page_no() == 1:
                return
            self.set_font("Helvetica", "I", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 6, f"{COMPANY} | {PDF_TITLE} | Version 4.2",
                      new_x="LMARGIN", new_y="NEXT")
            self.ln(2)
            self.set_text_color(0, 0, 0)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", "I", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    pdf = PolicyPDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=22)
    pdf.set_title(PDF_TITLE)
    pdf.set_author(f"{COMPANY} Finance")
    pdf.set_subject("Rules for expense claims, business travel, per diems, hotels, "
                    "corporate cards and contractors")
    pdf.set_keywords("expenses, travel, mileage, per diem, hotel, corporate card")
    pdf.set_creator("examples/build_samples.py")
    pdf.set_lang("en-GB")
    pdf.set_creation_date(FIXED_DATE)

    def text(value: str) -> str:
        value.encode("latin-1")  # core fonts: fail loudly on anything else
        return value

    # Cover page
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_text_color(90, 60, 120)
    pdf.cell(0, 8, text(COMPANY.upper()), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(28)
    pdf.set_font("Helvetica", "B", 26)
    pdf.multi_cell(0, 12, text(PDF_TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 13)
    pdf.multi_cell(0, 7, text("How to claim business costs, book travel and use the "
                              "corporate card"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(col_widths=(45, 121), first_row_as_headings=False,
                   line_height=6, borders_layout="HORIZONTAL_LINES",
                   text_align="LEFT") as table:
        for key, value in PDF_COVER:
            row = table.row()
            row.cell(text(key))
            row.cell(text(value))
    pdf.ln(12)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10.5)
    for entry in PDF_CONTENTS:
        pdf.cell(0, 6.2, text(entry), new_x="LMARGIN", new_y="NEXT")

    # Body
    pdf.add_page()
    for block in PDF_BODY:
        kind = block[0]
        if kind == "h1":
            if pdf.get_y() > pdf.h - 60:
                pdf.add_page()
            pdf.ln(4)
            pdf.set_font("Helvetica", "B", 14)
            pdf.set_text_color(90, 60, 120)
            pdf.multi_cell(0, 8, text(block[1]), new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1)
        elif kind == "h2":
            pdf.ln(1)
            pdf.set_font("Helvetica", "B", 11.5)
            pdf.multi_cell(0, 6.5, text(block[1]), new_x="LMARGIN", new_y="NEXT")
        elif kind == "p":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(0, 5.6, text(block[1]), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind == "ul":
            pdf.set_font("Helvetica", "", 10.5)
            for item in block[1]:
                pdf.set_x(pdf.l_margin + 2)
                pdf.cell(5, 5.6, chr(149))  # bullet in cp1252
                pdf.multi_cell(0, 5.6, text(item), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(0.8)
            pdf.ln(1.5)
        elif kind == "table":
            rows, widths = block[1], block[2]
            pdf.set_font("Helvetica", "", 9.5)
            with pdf.table(col_widths=widths, width=sum(widths), align="LEFT",
                           line_height=5.4, text_align="LEFT") as table:
                for values in rows:
                    row = table.row()
                    for value in values:
                        row.cell(text(value))
            pdf.ln(3)
        else:  # pragma: no cover - guards typos in the content above
            raise ValueError(kind)

    return bytes(pdf.output())


# --------------------------------------------------------------------------
# 2. Information security basics (DOCX)
# --------------------------------------------------------------------------
# Blocks: ("title", text), ("h1", text), ("h2", text), ("p", text),
# ("ul", [items]), ("ol", [items]), ("table", [header, row, ...]).

DOCX_BLOCKS = [
    ("title", "Information security basics"),
    ("p", "Version 3.1, September 2025. Owner: Security team "
          "(security@northwindloom.example). Applies to all employees, contractors "
          "and agency staff who use Northwind Loom systems or information."),

    ("h1", "Passwords and multi-factor authentication"),
    ("h2", "Passwords"),
    ("ul", [
        "Use the company password manager for every work account. It is installed on "
        "your laptop and phone on day 1.",
        "Use a passphrase of at least 14 characters for the accounts you have to "
        "remember (your laptop login and the password manager itself), for example "
        "four unrelated words.",
        "Never reuse a work password anywhere else, and never share it, not even "
        "with the IT service desk. IT will never ask for your password.",
        "Change a password straight away if you think someone else may know it.",
    ]),
    ("h2", "Multi-factor authentication (MFA)"),
    ("ul", [
        "MFA is required for email, chat, Atlas, Loom Learn, the VPN and every system "
        "that holds Confidential or Restricted data.",
        "Use the authenticator app or a hardware security key. SMS codes are not "
        "accepted because they can be intercepted.",
        "Never approve an MFA prompt you did not trigger yourself. An unexpected "
        "prompt means someone has your password: deny it, change the password and "
        "report it to security@northwindloom.example.",
    ]),

    ("h1", "Phishing"),
    ("h2", "How to recognise it"),
    ("p", "Phishing is an email, message or call that tries to make you click a "
          "link, open an attachment, enter your password or send money or data. "
          "Watch for:"),
    ("ul", [
        "Urgency or pressure: \"pay today\", \"your account will be closed\", a "
        "senior manager who needs something \"right now and confidentially\".",
        "A sender address that does not match the name, or a domain that is almost "
        "right, such as northwind-loom or northwindl0om.",
        "Requests to change a supplier's bank details. Finance always checks these "
        "by calling the supplier on a number already on file, never the number in "
        "the email.",
        "Unexpected invoices, shared documents or delivery notices.",
    ]),
    ("h2", "How to report a phishing email"),
    ("ol", [
        "Do not click links, open attachments or reply.",
        "Report it with the \"Report phish\" button in your email client: in the "
        "ribbon on the desktop app, or in the \"...\" menu of a message on the web "
        "and mobile apps. The button sends the message to the Security team and "
        "removes it from your inbox.",
        "If the button is not available, forward the email as an attachment to "
        "security@northwindloom.example.",
        "Report within 1 hour of receiving the message, or of noticing it. Speed "
        "matters: the Security team can remove the same email from every other "
        "inbox before someone else clicks.",
        "Do not forward it to colleagues to warn them.",
    ]),
    ("p", "Report suspicious text messages, chat messages and phone calls to "
          "security@northwindloom.example as well."),
    ("h2", "If you clicked or entered your password"),
    ("p", "Do not be embarrassed and do not wait. Call the IT service desk on internal "
          "extension 4357 straight away (outside office hours: the security on-call "
          "number printed on the back of your badge), disconnect from the network if "
          "asked, and change your password from another device. Reporting quickly "
          "is what counts; nobody is disciplined for clicking a link and reporting "
          "it."),

    ("h1", "Laptops, phones and travel"),
    ("h2", "Everyday habits"),
    ("ul", [
        "Lock your screen whenever you walk away (Windows key + L, or Control + "
        "Command + Q on a Mac). Screens lock automatically after 5 minutes.",
        "Install updates within 7 days of the prompt. Devices that are more than 14 "
        "days behind lose access to email and files until they are updated.",
        "Your work laptop is for you only, not for family members.",
        "The always-on VPN protects you on public Wi-Fi; do not switch it off. Use a "
        "privacy filter on trains and in cafes.",
    ]),
    ("h2", "Travelling"),
    ("ul", [
        "Keep your laptop and phone in your hand luggage, never in checked baggage "
        "or visible in a parked car.",
        "Travelling outside the EU, the UK, Switzerland, Norway, the US or Canada? "
        "Tell security@northwindloom.example at least 10 working days before you go. "
        "For some countries you receive a clean loan laptop and phone.",
    ]),
    ("h2", "Lost or stolen devices"),
    ("p", "Report a lost or stolen laptop, phone, badge or security key to the IT "
          "service desk (it-help@northwindloom.example or extension 4357) within 1 "
          "hour of noticing. IT can lock and wipe the device remotely. If it was "
          "stolen, also report it to the police within 24 hours and send the report "
          "number to the IT service desk."),

    ("h1", "Classifying data"),
    ("p", "All information at Northwind Loom has one of four classification levels, "
          "set by the owner of the document. No label: treat it as Internal. Unsure "
          "between Confidential and Restricted: treat it as Restricted."),
    ("table", [
        ["Level", "Examples", "How to handle it"],
        ["Public",
         "Product pages and prices on the web shop, published lookbooks, press "
         "releases, job adverts",
         "No restrictions. Check that it was approved for publication before you "
         "share it."],
        ["Internal",
         "Intranet pages, the organisation chart, internal newsletters, team plans, "
         "this guide",
         "Share freely with employees and contractors. Not outside the company "
         "without your manager's approval."],
        ["Confidential",
         "Customer names and order history, supplier contracts and prices, "
         "unreleased designs and collection plans, sales figures and forecasts",
         "Need-to-know only. Share externally only under a signed NDA, through "
         "company file sharing with expiring links. Never in personal email or "
         "unapproved AI tools."],
        ["Restricted",
         "Salaries and personnel files, health and sick-leave data, bank and payment "
         "card details, passwords and encryption keys, plans for acquisitions",
         "Named people only. Store and send only in encrypted company systems. Do "
         "not print, do not paste into chat or email bodies, never into AI tools."],
    ]),
    ("p", "Generative AI tools: use only the tools approved by IT, such as the "
          "learning coach. Never paste Confidential or Restricted information into "
          "public AI tools or browser extensions."),

    ("h1", "Reporting incidents"),
    ("p", "A security incident is anything that could harm the confidentiality, "
          "integrity or availability of our information. Examples:"),
    ("ul", [
        "You clicked a phishing link or entered your password on a suspicious page.",
        "A device, badge or paper file was lost or stolen.",
        "Customer or employee data was sent to the wrong person, or a system "
        "behaves strangely (files you cannot open, accounts locked for no reason).",
    ]),
    ("h2", "How to report"),
    ("ol", [
        "Report within 1 hour of noticing, to security@northwindloom.example or the "
        "IT service desk on extension 4357. Outside office hours, use the security "
        "on-call number on the back of your badge.",
        "Say what happened, when, which systems or data are involved, and what you "
        "have done so far.",
        "Do not investigate yourself, and do not delete anything: the Security team "
        "may need the evidence.",
    ]),
    ("p", "The Security team triages every report within 4 hours. If personal data is "
          "involved, the data protection officer (dpo@northwindloom.example) decides "
          "whether the supervisory authority must be notified, which by law has to "
          "happen within 72 hours of us becoming aware. That is why a quick report "
          "matters more than a complete one. We have a no-blame approach: honest "
          "mistakes that are reported are never punished; hiding an incident is."),
]


def build_docx() -> bytes:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    props = document.core_properties
    props.title = "Information security basics"
    props.author = f"{COMPANY} Security team"
    props.last_modified_by = f"{COMPANY} Security team"
    props.subject = "Passwords, MFA, phishing, devices, data classification, incidents"
    props.keywords = "security, phishing, MFA, classification, incident"
    props.language = "en-GB"
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1

    for block in DOCX_BLOCKS:
        kind = block[0]
        if kind == "title":
            document.add_heading(block[1], level=0)
        elif kind == "h1":
            document.add_heading(block[1], level=1)
        elif kind == "h2":
            document.add_heading(block[1], level=2)
        elif kind == "p":
            document.add_paragraph(block[1])
        elif kind == "ul":
            for item in block[1]:
                document.add_paragraph(item, style="List Bullet")
        elif kind == "ol":
            for item in block[1]:
                document.add_paragraph(item, style="List Number")
        elif kind == "table":
            rows = block[1]
            table = document.add_table(rows=0, cols=len(rows[0]))
            table.style = "Table Grid"
            for index, values in enumerate(rows):
                cells = table.add_row().cells
                for cell, value in zip(cells, values):
                    cell.text = value
                    if index == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
                            run.font.size = Pt(10)
        else:  # pragma: no cover
            raise ValueError(kind)

    buffer = io.BytesIO()
    document.save(buffer)
    return _normalise_zip(buffer.getvalue())


# --------------------------------------------------------------------------
# 3. Giving feedback (PPTX)
# --------------------------------------------------------------------------
# Each slide: title, bullets (text, or (level, text) for a sub-bullet), notes.
# The first slide uses the title layout; its "bullets" hold the subtitle.

PPTX_TITLE = "Giving and receiving feedback"

PPTX_SLIDES = [
    {
        "title": PPTX_TITLE,
        "bullets": ["Northwind Loom learning series", "45-minute session for all employees"],
        "notes": "Welcome everyone and introduce yourself. Explain that this session "
                 "is practical: by the end, everyone should be able to give one piece "
                 "of feedback using the SBI model and know how to respond when they "
                 "receive feedback. Agenda: why feedback matters, the SBI model, "
                 "feedback to peers, receiving feedback and feedback in remote teams.",
    },
    {
        "title": "Why feedback matters here",
        "bullets": [
            "Our work is visible and shared: designs, samples and customer replies "
            "pass through many hands",
            "Small course corrections early are cheaper than big ones late in the "
            "season",
            "In the engagement survey, 58% said they get too little feedback from "
            "colleagues outside their manager",
            "Feedback goes in every direction: to peers, to your manager and across "
            "teams",
        ],
        "notes": "Ask the room: when did you last receive feedback that actually "
                 "helped you? What made it useful? Collect two or three answers. "
                 "Usually they are specific, timely and given with good intent. "
                 "That is what the rest of the session builds on.",
    },
    {
        "title": "The SBI model: situation, behaviour, impact",
        "bullets": [
            "Situation: when and where it happened, as specifically as you can",
            "Behaviour: what the person said or did, as a camera would record it",
            (1, "Describe, do not interpret: \"you interrupted Sara twice\", not "
                "\"you were rude\""),
            "Impact: the effect on you, the team, the customer or the work",
            "Then ask and listen: \"How did you see it?\"",
            "Agree a next step together, if one is needed",
        ],
        "notes": "SBI keeps feedback about facts instead of character, which makes it "
                 "much easier to hear. Stress the difference between behaviour and "
                 "interpretation: \"you were unprepared\" is a judgement, \"you did not "
                 "have the sample costs ready\" is behaviour. Impact is what makes the "
                 "feedback matter; without it, feedback sounds like a personal "
                 "preference. SBI works for positive feedback too.",
    },
    {
        "title": "SBI examples",
        "bullets": [
            "Positive: \"In Tuesday's supplier call (S), you summarised the three open "
            "points and who owned each (B). Everyone left knowing what to do, and the "
            "samples arrived a week early (I).\"",
            "Constructive: \"In this morning's stand-up (S), you said the product "
            "photos would be ready, but they were not uploaded by noon (B). The web "
            "team had to move the launch and customer care had no images to share "
            "(I). What happened?\"",
            "Avoid: \"Great job!\" or \"You need to be more reliable.\" Neither says "
            "what to repeat or change",
        ],
        "notes": "Read the examples aloud and ask participants to spot the S, B and I. "
                 "Then give pairs two minutes to rewrite the two vague examples on the "
                 "last bullet into SBI form, using a real situation from their own "
                 "work. Ask one or two pairs to share.",
    },
    {
        "title": "Giving feedback to a peer",
        "bullets": [
            "Ask first: \"Can I give you some feedback on the design review?\"",
            "Be timely: within 48 hours, while the situation is fresh",
            "Constructive feedback in private; positive feedback can be public",
            "Speak to the person directly before you involve their manager",
            "Offer, do not order: it is their decision what to do with it",
            "Twice a year, ask three to five peers for written feedback in Atlas "
            "(Performance > Request feedback)",
        ],
        "notes": "Peer feedback feels harder than feedback to or from a manager because "
                 "there is no formal role to lean on. Asking permission first signals "
                 "respect and gives the other person a moment to get ready. Going to "
                 "someone's manager before talking to them directly damages trust; "
                 "only do it for serious conduct issues. Mention the twice-yearly peer "
                 "feedback round in Atlas: requests go out in March and September.",
    },
    {
        "title": "Receiving feedback",
        "bullets": [
            "Listen to the end without defending or explaining",
            "Ask questions to understand: \"Can you give me an example?\"",
            "Thank the person: giving feedback takes effort",
            "Take time to decide what you will do with it; you do not have to agree "
            "on the spot",
            "Follow up: tell them what you changed",
            "Ask for feedback yourself, with a specific question: \"What is one thing I "
            "could do to make our handovers smoother?\"",
        ],
        "notes": "How you receive feedback decides whether people will give you more. "
                 "The natural reaction is to explain, which the other person hears as "
                 "\"you are wrong\". Suggest a simple phrase: \"Thank you, let me think "
                 "about that.\" Specific questions get much better answers than \"do "
                 "you have any feedback for me?\"",
    },
    {
        "title": "Feedback in remote teams",
        "bullets": [
            "Give constructive feedback on a video call with cameras on, never only "
            "in chat or email",
            "Written praise works well: use the #kudos channel for public thanks",
            "Check understanding at the end: \"What will you take away from this?\"",
            "Send a short written summary afterwards if you agreed next steps",
            "Mind time zones and energy: not at the end of a long day of calls",
            "Text loses tone: read chat messages twice before sending",
        ],
        "notes": "About a third of our colleagues work fully or mostly remotely, and "
                 "many teams are split between Rotterdam and Leeds. Without body "
                 "language, misunderstandings grow quickly, so move difficult "
                 "conversations from text to video. Ask whether anyone has a team "
                 "habit that works well for them remotely.",
    },
    {
        "title": "Practise and next steps",
        "bullets": [
            "This week: give one piece of positive feedback using SBI",
            "This month: ask a peer for feedback with a specific question",
            "Managers: use the one-on-one guide on the managers' hub",
            "Go deeper: the two-hour \"Feedback conversations\" workshop in Loom Learn",
            "Questions: learning@northwindloom.example",
        ],
        "notes": "Close by asking everyone to write down one person they will give SBI "
                 "feedback to this week. Remind them that the workshop in Loom Learn is "
                 "free for employees and does not use their training budget. Thank "
                 "everyone for taking part.",
    },
]


def build_pptx() -> bytes:
    from pptx import Presentation
    from pptx.enum.text import MSO_AUTO_SIZE
    from pptx.util import Pt

    presentation = Presentation()
    props = presentation.core_properties
    props.title = PPTX_TITLE
    props.author = f"{COMPANY} Learning and development"
    props.last_modified_by = f"{COMPANY} Learning and development"
    props.subject = "SBI model, peer feedback, receiving feedback, remote teams"
    props.keywords = "feedback, SBI, peer feedback, remote"
    props.language = "en-GB"
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1

    title_layout = presentation.slide_layouts[0]
    content_layout = presentation.slide_layouts[1]

    for index, spec in enumerate(PPTX_SLIDES):
        if index == 0:
            slide = presentation.slides.add_slide(title_layout)
            slide.shapes.title.text = spec["title"]
            slide.placeholders[1].text = "\n".join(spec["bullets"])
        else:
            slide = presentation.slides.add_slide(content_layout)
            slide.shapes.title.text = spec["title"]
            frame = slide.placeholders[1].text_frame
            for position, bullet in enumerate(spec["bullets"]):
                level, value = bullet if isinstance(bullet, tuple) else (0, bullet)
                paragraph = frame.paragraphs[0] if position == 0 else frame.add_paragraph()
                paragraph.text = value
                paragraph.level = level
            # Long bullets: let PowerPoint shrink the text to fit the placeholder.
            frame.word_wrap = True
            frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
            for paragraph in frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(18 if paragraph.level == 0 else 16)
        slide.notes_slide.notes_text_frame.text = spec["notes"]

    buffer = io.BytesIO()
    presentation.save(buffer)
    return _normalise_zip(buffer.getvalue())


# --------------------------------------------------------------------------
# 4. Customer conversations (SCORM 1.2 package)
# --------------------------------------------------------------------------

SCORM_COURSE_TITLE = "Customer conversations: handling complaints"

SCORM_LESSONS = [
    {
        "id": "01",
        "file": "lessons/01-why-complaints-matter.html",
        "title": "Why complaints are worth having",
        "body": """
<p>Our customer care teams in Leeds and Rotterdam handle around 1,800 contacts a month from
consumers and trade customers. About one in eleven is a complaint: a colour that does not match
the sample, a late delivery, a curtain that was cut to the wrong length.</p>
<p>A complaint is a customer telling us what went wrong instead of quietly leaving. Customers
whose complaint was resolved well order again more often than customers who never had a
problem at all. Every complaint is also free information about what to fix in our products,
our website or our logistics.</p>
<h2>Our service standards</h2>
<ul>
  <li>Emails and web forms: a personal reply within 1 working day.</li>
  <li>Social media messages: a first reply within 4 working hours.</li>
  <li>Phone: answered within 2 minutes during opening hours (08:30 to 17:30 UK time,
      09:00 to 18:00 Dutch time).</li>
  <li>First-contact resolution: we aim to solve 80% of complaints in the first conversation.</li>
</ul>
<p>Those standards apply to trade customers and consumers alike. Trade customers also have an
account manager, whom you copy in on every complaint (see lesson 4).</p>
<h2>What you will learn</h2>
<p>In this course you learn the five LEARN steps for complaint conversations, what you may
decide yourself on refunds and goodwill, and when and how to escalate. The course takes about
25 minutes. You complete it by opening all four lessons.</p>
""",
    },
    {
        "id": "02",
        "file": "lessons/02-the-learn-steps.html",
        "title": "The LEARN steps",
        "body": """
<p>LEARN is a simple structure for any complaint conversation, by phone, chat or email.</p>
<h2>L - Listen</h2>
<p>Let the customer tell the whole story without interrupting. Take notes in the customer
record as you go: order number, product, what happened, what they want. On the phone, short
signals such as "I see" or "go on" show that you are listening.</p>
<h2>E - Empathise</h2>
<p>Acknowledge how the customer feels before you move to facts: "I understand how frustrating
it is when the fabric for your sofa arrives in a different shade from the sample you chose."
Empathy is not admitting fault; it is showing that you understand the impact.</p>
<h2>A - Apologise</h2>
<p>Apologise sincerely and specifically for the experience: "I am sorry that this order did not
arrive as you expected." Avoid "sorry for any inconvenience", which sounds like a template,
and never blame a colleague, the courier or the warehouse in front of the customer.</p>
<h2>R - Resolve</h2>
<p>Agree a solution. Ask what the customer would consider fair, then offer what you can within
your authority (see lesson 3): a replacement, a refund, a goodwill credit or a collection. Be
precise about what happens next and when: "The replacement leaves our warehouse tomorrow and
you will receive tracking by email."</p>
<h2>N - Notify</h2>
<p>Close the loop. Confirm the agreed solution in writing the same day, log the complaint with
the right reason code in the customer record, and tell the team that can prevent it next time,
for example the quality team for colour deviations or logistics for damaged parcels. If you
promised a call back, make it, even if you have no news yet.</p>
<h2>Example</h2>
<p>A customer emails angrily that her made-to-measure curtains are 6 cm too short. You reply
within the working day, thank her for the measurements and photos, acknowledge that she was
planning a family event, apologise, and offer a remake at no cost with priority production. You
log the reason code "Cut length" and notify the Leeds making-up workshop.</p>
""",
    },
    {
        "id": "03",
        "file": "lessons/03-refunds-and-goodwill.html",
        "title": "Refunds and goodwill",
        "body": """
<p>You can solve most complaints yourself. These are the limits of your authority as a
customer care adviser.</p>
<h2>What you can approve yourself</h2>
<ul>
  <li>Refunds, replacements and goodwill credits up to <strong>€150 (£130) per
      order</strong>, without asking anyone. Record the reason code in the order system.</li>
  <li>Free return labels and courier collections for faulty or wrongly delivered goods.</li>
  <li>A goodwill voucher of 10% to 20% of the order value for delays of more than 5 working
      days, within the same €150 limit.</li>
</ul>
<h2>What needs approval</h2>
<ul>
  <li>Above €150 (£130) and up to €1,000: approval by your team lead in the order
      system, normally within the same working day.</li>
  <li>Above €1,000: approval by the customer care manager.</li>
  <li>Trade customers: credit notes are always agreed with the account manager, whatever the
      amount.</li>
</ul>
<h2>How refunds work</h2>
<ul>
  <li>Refunds go back to the original payment method and reach the customer within 5 working
      days. Tell the customer this, so they do not chase us on day 2.</li>
  <li>Consumers can return unused, uncut fabric within 30 days for a full refund.</li>
  <li>Made-to-measure items and fabric cut to length cannot be returned unless they are faulty
      or were made incorrectly.</li>
  <li>Never refund in cash or to a different card or account than the one used for the order.</li>
</ul>
<p>If you are not sure whether a case is within your authority, ask your team lead before you
promise anything to the customer.</p>
""",
    },
    {
        "id": "04",
        "file": "lessons/04-escalation-and-wrap-up.html",
        "title": "Escalation and wrap-up",
        "body": """
<h2>When to escalate</h2>
<ul>
  <li>The solution the customer asks for is above your refund limit.</li>
  <li>A safety issue: a product that caught fire or smoked, a skin reaction, a broken fitting
      that caused an injury.</li>
  <li>The customer mentions a lawyer, legal action, a consumer authority or the press, or has
      a large following on social media and threatens to post.</li>
  <li>A possible data protection issue, such as an order confirmation sent to the wrong
      customer.</li>
  <li>This is the customer's third contact about the same problem.</li>
  <li>The customer is abusive or threatening.</li>
</ul>
<h2>How to escalate</h2>
<ol>
  <li>Move the case to the "Customer care lead" queue in the customer record, with a short
      summary: what happened, what the customer wants, what you already offered.</li>
  <li>For urgent cases, also email customer-care-leads@northwindloom.example. A team lead
      picks up urgent cases within 2 working hours.</li>
  <li>Safety issues are also reported the same day to quality@northwindloom.example. Ask the
      customer to stop using the product and keep it for inspection.</li>
  <li>Data protection issues are reported within 1 hour to security@northwindloom.example.</li>
  <li>Tell the customer who will contact them and by when: at the latest within 1 working day.</li>
</ol>
<p>Abusive customers: you may end a call or chat after one clear warning ("If you continue to
use that language I will end this call"). Log it and tell your team lead.</p>
<h2>Check your understanding</h2>
<ol>
  <li>A consumer asks for €120 back because a delivery was 8 days late. Can you approve it?
      <em>Yes: it is within your €150 limit. Log the reason code.</em></li>
  <li>A trade customer asks for a €90 credit note. Can you approve it?
      <em>No: credit notes for trade customers are always agreed with the account manager.</em></li>
  <li>A customer says a cushion cover gave her child a rash. What do you do?
      <em>Apologise, ask her to stop using and keep the product, escalate to the team lead queue
      and report it to quality@northwindloom.example the same day.</em></li>
</ol>
<p>You have completed the course. Thank you for taking the time.</p>
""",
    },
]

SCORM_API_JS = """\
/* Minimal SCORM 1.2 runtime wrapper for Northwind Loom e-learning.
 * Finds the LMS-provided API object, starts the session on load, marks the
 * lesson completed and ends the session when the page is closed. */
(function (window) {
  "use strict";

  var api = null;
  var started = false;

  function findAPI(win) {
    var tries = 0;
    while (win && !win.API && win.parent && win.parent !== win && tries < 10) {
      tries += 1;
      win = win.parent;
    }
    return win ? win.API || null : null;
  }

  function getAPI() {
    if (api) { return api; }
    api = findAPI(window);
    if (!api && window.opener) { api = findAPI(window.opener); }
    return api;
  }

  function call(name) {
    var lms = getAPI();
    if (!lms || typeof lms[name] !== "function") { return "false"; }
    var args = Array.prototype.slice.call(arguments, 1);
    return String(lms[name].apply(lms, args));
  }

  var NWLScorm = {
    start: function () {
      if (started) { return true; }
      started = call("LMSInitialize", "") === "true";
      if (started && call("LMSGetValue", "cmi.core.lesson_status") === "not attempted") {
        call("LMSSetValue", "cmi.core.lesson_status", "incomplete");
        call("LMSCommit", "");
      }
      return started;
    },
    complete: function () {
      if (!started) { return false; }
      call("LMSSetValue", "cmi.core.lesson_status", "completed");
      return call("LMSCommit", "") === "true";
    },
    finish: function () {
      if (!started) { return false; }
      started = false;
      return call("LMSFinish", "") === "true";
    },
    lastError: function () {
      var code = call("LMSGetLastError");
      return { code: code, text: call("LMSGetErrorString", code) };
    }
  };

  window.NWLScorm = NWLScorm;
  window.addEventListener("load", function () { NWLScorm.start(); NWLScorm.complete(); });
  window.addEventListener("beforeunload", function () { NWLScorm.finish(); });
}(window));
"""

SCORM_PAGE = """\
<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>{title} | {course}</title>
  <script src="../shared/scorm_api.js"></script>
</head>
<body>
  <header><p>{course} &middot; Lesson {number} of {total}</p></header>
  <main>
    <h1>{title}</h1>
{body}
  </main>
</body>
</html>
"""


def _xml_escape(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def scorm_manifest() -> str:
    items = []
    resources = []
    for lesson in SCORM_LESSONS:
        items.append(
            f'      <item identifier="ITEM-{lesson["id"]}" '
            f'identifierref="RES-{lesson["id"]}" isvisible="true">\n'
            f'        <title>{_xml_escape(lesson["title"])}</title>\n'
            f'      </item>'
        )
        resources.append(
            f'    <resource identifier="RES-{lesson["id"]}" type="webcontent" '
            f'adlcp:scormtype="sco" href="{lesson["file"]}">\n'
            f'      <file href="{lesson["file"]}"/>\n'
            f'      <dependency identifierref="RES-SHARED"/>\n'
            f'    </resource>'
        )
    resources.append(
        '    <resource identifier="RES-SHARED" type="webcontent" adlcp:scormtype="asset">\n'
        '      <file href="shared/scorm_api.js"/>\n'
        '    </resource>'
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="NWL-CUSTOMER-CONVERSATIONS" version="1.0"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
  </metadata>
  <organizations default="NWL-ORG">
    <organization identifier="NWL-ORG">
      <title>{_xml_escape(SCORM_COURSE_TITLE)}</title>
{chr(10).join(items)}
    </organization>
  </organizations>
  <resources>
{chr(10).join(resources)}
  </resources>
</manifest>
"""


def build_scorm() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        _write_member(zf, "imsmanifest.xml", scorm_manifest())
        for number, lesson in enumerate(SCORM_LESSONS, start=1):
            page = SCORM_PAGE.format(
                title=_xml_escape(lesson["title"]),
                course=_xml_escape(SCORM_COURSE_TITLE),
                number=number,
                total=len(SCORM_LESSONS),
                body="\n".join("    " + line if line else line
                               for line in lesson["body"].strip().splitlines()),
            )
            _write_member(zf, lesson["file"], page)
        _write_member(zf, "shared/scorm_api.js", SCORM_API_JS)
    return buffer.getvalue()


# --------------------------------------------------------------------------

def main() -> None:
    _write(CONTENT / "expenses" / "expenses-and-travel-policy.pdf", build_pdf())
    _write(CONTENT / "security" / "information-security-basics.docx", build_docx())
    _write(CONTENT / "feedback" / "giving-feedback.pptx", build_pptx())
    _write(CONTENT / "courses" / "customer-conversations-scorm12.zip", build_scorm())


if __name__ == "__main__":
    main()
