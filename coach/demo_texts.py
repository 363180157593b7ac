"""What the simulated people of `coach demo-data` are called and ask (coach/demo_data.py): Northwind Loom's sample
competencies, in English and, for the Rotterdam team, Dutch. Questions the sample content does not cover are
asked too, so the content-gap report has something to cluster."""

from __future__ import annotations

FIRST_NAMES = {
    "en": ["Amira", "Ben", "Chloe", "Daniel", "Ella", "Femi", "Grace", "Harry", "Isla", "Jack", "Kiran", "Leah",
           "Mohammed", "Nina", "Oliver", "Priya", "Quinn", "Rosa", "Sam", "Tom", "Uma", "Victor", "Wei", "Yusuf"],
    "nl": ["Anouk", "Bram", "Daan", "Eva", "Fleur", "Joris", "Lotte", "Milan", "Noor", "Pieter", "Sanne", "Sem",
           "Tess", "Thijs", "Yara", "Zoë"],
}
LAST_NAMES = {
    "en": ["Adams", "Baker", "Chen", "Davies", "Evans", "Fraser", "Gupta", "Hughes", "Khan", "Lewis", "Morris",
           "Okafor", "Patel", "Reid", "Shaw", "Turner", "Walsh", "Young"],
    "nl": ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos",
           "Vos", "Peters", "Hendriks", "van Dijk"],
}

ANSWERED = {  # competency -> questions the sample content answers
    "en": {
        "expenses": ["What is the mileage rate?", "How do I claim a per diem for a trip to Germany?",
                     "Can I expense a client lunch?", "How do I submit a hotel receipt?",
                     "Is the per diem lower when breakfast is included?"],
        "learning-and-development": ["How do I book training from my budget?", "How far ahead must I request a "
                                     "course?", "How big is my training budget?"],
        "information-security": ["How do I report a phishing e-mail?", "I clicked a suspicious link, what now?",
                                 "Who do I tell about a lost laptop?"],
        "feedback": ["How do I give feedback to a peer?", "What is the SBI model?", "How do I ask for feedback?"],
        "coaching": ["How often should I hold one-on-ones?", "What goes on a one-on-one agenda?"],
        "people-management": ["How do I prepare a salary conversation?", "Can I share a colleague's rating?",
                              "How do I run a performance review?"],
        "customer-service": ["Up to what amount can I approve a refund?", "How do I handle an angry customer?",
                             "When do I escalate a complaint?"],
        "onboarding": ["How many holiday days can I carry over?", "Where do I request holidays?",
                       "Who is my buddy in the first week?"],
    },
    "nl": {
        "expenses": ["Welke thuiswerkvergoeding krijg ik?", "Hoe declareer ik mijn reiskosten?",
                     "Krijg ik een vergoeding voor een bureaustoel?", "Wat is de kilometervergoeding?"],
        "learning-and-development": ["Hoe vraag ik een training aan?", "Hoeveel opleidingsbudget heb ik?"],
        "information-security": ["Hoe meld ik een phishingmail?", "Ik heb op een verdachte link geklikt, wat nu?"],
        "feedback": ["Hoe geef ik feedback aan een collega?", "Wat is het SBI-model?"],
        "coaching": ["Hoe vaak houd ik een één-op-één gesprek?"],
        "people-management": ["Hoe bereid ik een salarisgesprek voor?"],
        "customer-service": ["Tot welk bedrag mag ik een terugbetaling goedkeuren?", "Wanneer escaleer ik een "
                             "klacht?"],
        "onboarding": ["Hoeveel vakantiedagen mag ik meenemen?", "Waar vraag ik vakantie aan?"],
    },
}

GAPS = {  # competency -> questions the sample content does not cover (content gaps)
    "en": {
        "expenses": ["What is the mileage rate for an electric car?", "Can I claim parking at a client site?"],
        "learning-and-development": ["Can I take a sabbatical for a master's degree?"],
        "information-security": ["May I use my own USB stick at work?"],
        "customer-service": ["Can I offer a discount code to an unhappy customer?"],
        "onboarding": ["Is there a bike scheme for new starters?"],
    },
    "nl": {
        "expenses": ["Krijg ik een vergoeding voor mijn elektrische auto?", "Wordt parkeren bij een klant vergoed?"],
        "onboarding": ["Is er een fietsregeling voor nieuwe medewerkers?"],
    },
}
