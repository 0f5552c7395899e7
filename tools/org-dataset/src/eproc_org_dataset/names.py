"""Real names of the Belgian public sector, written from public knowledge.

Federal names are (nl, fr, de, en) tuples; other bodies carry only the languages they
are really named in. Seats are municipality names from ``municipalities.py``; they are
plausible, not authoritative (the dataset is for tests and demos, not a registry).
"""

from __future__ import annotations

Federal = tuple[str, str, str, str]

FEDERAL_GOVERNMENT: Federal = (
    "Federale Overheid",
    "Autorité fédérale",
    "Föderalbehörde",
    "Federal Government",
)

# (slug, kind, names, seat: (nl street, fr street, number, municipality))
FEDERAL_DEPARTMENTS: tuple[tuple[str, str, Federal, tuple[str, str, str, str]], ...] = (
    (
        "finance",
        "federal_fps",
        ("FOD Financiën", "SPF Finances", "FÖD Finanzen", "FPS Finance"),
        ("Koning Albert II-laan", "Boulevard du Roi Albert II", "33", "Schaarbeek"),
    ),
    (
        "chancellery",
        "federal_fps",
        (
            "FOD Kanselarij van de Eerste Minister",
            "SPF Chancellerie du Premier Ministre",
            "FÖD Kanzlei des Premierministers",
            "FPS Chancellery of the Prime Minister",
        ),
        ("Wetstraat", "Rue de la Loi", "16", "Brussel"),
    ),
    (
        "bosa",
        "federal_fps",
        (
            "FOD Beleid en Ondersteuning",
            "SPF Stratégie et Appui",
            "FÖD Politik und Unterstützung",
            "FPS Policy and Support",
        ),
        ("Simon Bolivarlaan", "Boulevard Simon Bolivar", "30", "Brussel"),
    ),
    (
        "justice",
        "federal_fps",
        ("FOD Justitie", "SPF Justice", "FÖD Justiz", "FPS Justice"),
        ("Waterloolaan", "Boulevard de Waterloo", "115", "Brussel"),
    ),
    (
        "home-affairs",
        "federal_fps",
        ("FOD Binnenlandse Zaken", "SPF Intérieur", "FÖD Inneres", "FPS Home Affairs"),
        ("Leuvenseweg", "Rue de Louvain", "1", "Brussel"),
    ),
    (
        "foreign-affairs",
        "federal_fps",
        (
            "FOD Buitenlandse Zaken, Buitenlandse Handel en Ontwikkelingssamenwerking",
            "SPF Affaires étrangères, Commerce extérieur et Coopération au Développement",
            "FÖD Auswärtige Angelegenheiten, Außenhandel und Entwicklungszusammenarbeit",
            "FPS Foreign Affairs, Foreign Trade and Development Cooperation",
        ),
        ("Karmelietenstraat", "Rue des Petits Carmes", "15", "Brussel"),
    ),
    (
        "mobility",
        "federal_fps",
        (
            "FOD Mobiliteit en Vervoer",
            "SPF Mobilité et Transports",
            "FÖD Mobilität und Transportwesen",
            "FPS Mobility and Transport",
        ),
        ("Vooruitgangstraat", "Rue du Progrès", "56", "Sint-Joost-ten-Node"),
    ),
    (
        "employment",
        "federal_fps",
        (
            "FOD Werkgelegenheid, Arbeid en Sociaal Overleg",
            "SPF Emploi, Travail et Concertation sociale",
            "FÖD Beschäftigung, Arbeit und Soziale Konzertierung",
            "FPS Employment, Labour and Social Dialogue",
        ),
        ("Ernest Blerotstraat", "Rue Ernest Blerot", "1", "Anderlecht"),
    ),
    (
        "social-security",
        "federal_fps",
        (
            "FOD Sociale Zekerheid",
            "SPF Sécurité sociale",
            "FÖD Soziale Sicherheit",
            "FPS Social Security",
        ),
        ("Kruidtuinlaan", "Boulevard du Jardin Botanique", "50", "Brussel"),
    ),
    (
        "health",
        "federal_fps",
        (
            "FOD Volksgezondheid, Veiligheid van de Voedselketen en Leefmilieu",
            "SPF Santé publique, Sécurité de la Chaîne alimentaire et Environnement",
            "FÖD Volksgesundheit, Sicherheit der Nahrungsmittelkette und Umwelt",
            "FPS Health, Food Chain Safety and Environment",
        ),
        ("Galileelaan", "Avenue Galilée", "5", "Sint-Joost-ten-Node"),
    ),
    (
        "economy",
        "federal_fps",
        (
            "FOD Economie, K.M.O., Middenstand en Energie",
            "SPF Economie, P.M.E., Classes moyennes et Energie",
            "FÖD Wirtschaft, KMB, Mittelstand und Energie",
            "FPS Economy, SMEs, Self-employed and Energy",
        ),
        ("Vooruitgangstraat", "Rue du Progrès", "50", "Sint-Joost-ten-Node"),
    ),
    (
        "defence",
        "federal_ministry",
        (
            "Ministerie van Landsverdediging",
            "Ministère de la Défense",
            "Ministerium der Landesverteidigung",
            "Ministry of Defence",
        ),
        ("Eversestraat", "Rue d'Evere", "1", "Evere"),
    ),
    (
        "social-integration",
        "federal_pps",
        (
            "POD Maatschappelijke Integratie",
            "SPP Intégration sociale",
            "ÖPD Sozialeingliederung",
            "PPS Social Integration",
        ),
        ("Koning Albert II-laan", "Boulevard du Roi Albert II", "30", "Brussel"),
    ),
    (
        "science-policy",
        "federal_pps",
        (
            "POD Wetenschapsbeleid",
            "SPP Politique scientifique",
            "ÖPD Wissenschaftspolitik",
            "PPS Science Policy",
        ),
        ("Simon Bolivarlaan", "Boulevard Simon Bolivar", "30", "Brussel"),
    ),
    (
        "buildings-agency",
        "federal_agency",
        ("Regie der Gebouwen", "Régie des Bâtiments", "Regie der Gebäude", "Buildings Agency"),
        ("Kunstlaan", "Avenue des Arts", "7", "Sint-Joost-ten-Node"),
    ),
    (
        "afsca",
        "federal_agency",
        (
            "Federaal Agentschap voor de Veiligheid van de Voedselketen",
            "Agence fédérale pour la Sécurité de la Chaîne alimentaire",
            "Föderalagentur für die Sicherheit der Nahrungsmittelkette",
            "Federal Agency for the Safety of the Food Chain",
        ),
        ("Kruidtuinlaan", "Boulevard du Jardin Botanique", "55", "Brussel"),
    ),
    (
        "onss",
        "federal_agency",
        (
            "Rijksdienst voor Sociale Zekerheid",
            "Office national de Sécurité sociale",
            "Landesamt für soziale Sicherheit",
            "National Social Security Office",
        ),
        ("Victor Hortaplein", "Place Victor Horta", "11", "Sint-Gillis"),
    ),
    (
        "onem",
        "federal_agency",
        (
            "Rijksdienst voor Arbeidsvoorziening",
            "Office national de l'Emploi",
            "Landesamt für Arbeitsbeschaffung",
            "National Employment Office",
        ),
        ("Keizerslaan", "Boulevard de l'Empereur", "7", "Brussel"),
    ),
    (
        "inami",
        "federal_agency",
        (
            "Rijksinstituut voor ziekte- en invaliditeitsverzekering",
            "Institut national d'assurance maladie-invalidité",
            "Landesinstitut für Kranken- und Invalidenversicherung",
            "National Institute for Health and Disability Insurance",
        ),
        ("Galileelaan", "Avenue Galilée", "5", "Sint-Joost-ten-Node"),
    ),
    (
        "federal-police",
        "federal_agency",
        ("Federale Politie", "Police fédérale", "Föderale Polizei", "Federal Police"),
        ("Fritz Toussaintstraat", "Rue Fritz Toussaint", "8", "Elsene"),
    ),
    (
        "famhp",
        "federal_agency",
        (
            "Federaal agentschap voor geneesmiddelen en gezondheidsproducten",
            "Agence fédérale des médicaments et des produits de santé",
            "Föderalagentur für Arzneimittel und Gesundheitsprodukte",
            "Federal Agency for Medicines and Health Products",
        ),
        ("Galileelaan", "Avenue Galilée", "5", "Sint-Joost-ten-Node"),
    ),
    (
        "pensions",
        "federal_agency",
        (
            "Federale Pensioendienst",
            "Service fédéral des Pensions",
            "Föderaler Pensionsdienst",
            "Federal Pensions Service",
        ),
        ("Zuidertoren", "Tour du Midi", "1", "Sint-Gillis"),
    ),
)

# Staff directorates every department has (nl, fr, de, en).
STAFF_DIRECTORATES: tuple[tuple[str, Federal], ...] = (
    (
        "budget",
        (
            "Stafdienst Budget en Beheerscontrole",
            "Service d'encadrement Budget et Contrôle de la gestion",
            "Stabsdienst Haushalt und Geschäftsführungskontrolle",
            "Budget and Management Control Staff Service",
        ),
    ),
    (
        "hr",
        (
            "Stafdienst Personeel en Organisatie",
            "Service d'encadrement Personnel et Organisation",
            "Stabsdienst Personal und Organisation",
            "Personnel and Organisation Staff Service",
        ),
    ),
    (
        "ict",
        (
            "Stafdienst ICT",
            "Service d'encadrement ICT",
            "Stabsdienst IKT",
            "ICT Staff Service",
        ),
    ),
    (
        "logistics",
        (
            "Stafdienst Logistiek en Aankopen",
            "Service d'encadrement Logistique et Achats",
            "Stabsdienst Logistik und Einkauf",
            "Logistics and Procurement Staff Service",
        ),
    ),
)

# Line directorates by department slug.
DIRECTORATES: dict[str, tuple[tuple[str, Federal], ...]] = {
    "finance": (
        (
            "taxation",
            (
                "Algemene Administratie van de Fiscaliteit",
                "Administration générale de la Fiscalité",
                "Generalverwaltung Steuerwesen",
                "General Administration of Taxation",
            ),
        ),
        (
            "customs",
            (
                "Algemene Administratie van de Douane en Accijnzen",
                "Administration générale des Douanes et Accises",
                "Generalverwaltung Zoll und Akzisen",
                "General Administration of Customs and Excise",
            ),
        ),
        (
            "patrimonial-documentation",
            (
                "Algemene Administratie van de Patrimoniumdocumentatie",
                "Administration générale de la Documentation patrimoniale",
                "Generalverwaltung Vermögensdokumentation",
                "General Administration of Patrimonial Documentation",
            ),
        ),
        (
            "collection",
            (
                "Algemene Administratie van de Inning en de Invordering",
                "Administration générale de la Perception et du Recouvrement",
                "Generalverwaltung Einnahme und Beitreibung",
                "General Administration of Collection and Recovery",
            ),
        ),
        (
            "treasury",
            (
                "Algemene Administratie van de Thesaurie",
                "Administration générale de la Trésorerie",
                "Generalverwaltung Schatzamt",
                "General Administration of the Treasury",
            ),
        ),
    ),
    "home-affairs": (
        (
            "crisis-centre",
            (
                "Algemene Directie Crisiscentrum",
                "Direction générale Centre de Crise",
                "Generaldirektion Krisenzentrum",
                "National Crisis Centre",
            ),
        ),
        (
            "immigration",
            (
                "Dienst Vreemdelingenzaken",
                "Office des Étrangers",
                "Ausländeramt",
                "Immigration Office",
            ),
        ),
        (
            "civil-security",
            (
                "Algemene Directie Civiele Veiligheid",
                "Direction générale Sécurité civile",
                "Generaldirektion Zivile Sicherheit",
                "Directorate-General for Civil Security",
            ),
        ),
        (
            "institutions-population",
            (
                "Algemene Directie Instellingen en Bevolking",
                "Direction générale Institutions et Population",
                "Generaldirektion Institutionen und Bevölkerung",
                "Directorate-General for Institutions and Population",
            ),
        ),
    ),
    "justice": (
        (
            "prisons",
            (
                "Directoraat-generaal Penitentiaire Inrichtingen",
                "Direction générale des Établissements pénitentiaires",
                "Generaldirektion Strafanstalten",
                "Directorate-General for Penitentiary Institutions",
            ),
        ),
        (
            "legislation",
            (
                "Directoraat-generaal Wetgeving en Fundamentele Rechten en Vrijheden",
                "Direction générale Législation et Libertés et Droits fondamentaux",
                "Generaldirektion Gesetzgebung und Grundrechte und -freiheiten",
                "Directorate-General for Legislation and Fundamental Rights and Freedoms",
            ),
        ),
        (
            "judicial-organisation",
            (
                "Directoraat-generaal Rechterlijke Organisatie",
                "Direction générale de l'Organisation judiciaire",
                "Generaldirektion Gerichtsorganisation",
                "Directorate-General for the Judicial Organisation",
            ),
        ),
    ),
    "economy": (
        (
            "inspection",
            (
                "Algemene Directie Economische Inspectie",
                "Direction générale de l'Inspection économique",
                "Generaldirektion Wirtschaftsinspektion",
                "Directorate-General for Economic Inspection",
            ),
        ),
        (
            "statistics",
            (
                "Algemene Directie Statistiek - Statistics Belgium",
                "Direction générale Statistique - Statistics Belgium",
                "Generaldirektion Statistik - Statistics Belgium",
                "Statistics Belgium",
            ),
        ),
        (
            "energy",
            (
                "Algemene Directie Energie",
                "Direction générale de l'Énergie",
                "Generaldirektion Energie",
                "Directorate-General for Energy",
            ),
        ),
    ),
    "mobility": (
        (
            "aviation",
            (
                "Directoraat-generaal Luchtvaart",
                "Direction générale Transport aérien",
                "Generaldirektion Luftfahrt",
                "Directorate-General for Civil Aviation",
            ),
        ),
        (
            "road-transport",
            (
                "Directoraat-generaal Wegvervoer en Verkeersveiligheid",
                "Direction générale Transport routier et Sécurité routière",
                "Generaldirektion Straßentransport und Verkehrssicherheit",
                "Directorate-General for Road Transport and Road Safety",
            ),
        ),
        (
            "shipping",
            (
                "Directoraat-generaal Scheepvaart",
                "Direction générale Navigation",
                "Generaldirektion Schifffahrt",
                "Directorate-General for Shipping",
            ),
        ),
    ),
    "health": (
        (
            "healthcare",
            (
                "Directoraat-generaal Gezondheidszorg",
                "Direction générale Soins de santé",
                "Generaldirektion Gesundheitspflege",
                "Directorate-General for Healthcare",
            ),
        ),
        (
            "animals-plants-food",
            (
                "Directoraat-generaal Dier, Plant en Voeding",
                "Direction générale Animaux, Végétaux et Alimentation",
                "Generaldirektion Tiere, Pflanzen und Lebensmittel",
                "Directorate-General for Animals, Plants and Food",
            ),
        ),
        (
            "environment",
            (
                "Directoraat-generaal Leefmilieu",
                "Direction générale Environnement",
                "Generaldirektion Umwelt",
                "Directorate-General for the Environment",
            ),
        ),
    ),
    "employment": (
        (
            "social-laws",
            (
                "Algemene Directie Toezicht op de Sociale Wetten",
                "Direction générale Contrôle des lois sociales",
                "Generaldirektion Kontrolle der Sozialgesetze",
                "Directorate-General for the Supervision of Social Laws",
            ),
        ),
        (
            "well-being",
            (
                "Algemene Directie Toezicht op het Welzijn op het Werk",
                "Direction générale Contrôle du bien-être au travail",
                "Generaldirektion Kontrolle des Wohlbefindens bei der Arbeit",
                "Directorate-General for the Supervision of Well-being at Work",
            ),
        ),
    ),
    "social-security": (
        (
            "disabilities",
            (
                "Directoraat-generaal Personen met een handicap",
                "Direction générale Personnes handicapées",
                "Generaldirektion Personen mit Behinderung",
                "Directorate-General for Persons with Disabilities",
            ),
        ),
        (
            "social-policy",
            (
                "Directoraat-generaal Sociaal Beleid",
                "Direction générale Politique sociale",
                "Generaldirektion Sozialpolitik",
                "Directorate-General for Social Policy",
            ),
        ),
    ),
    "foreign-affairs": (
        (
            "consular",
            (
                "Directie-generaal Consulaire Zaken",
                "Direction générale des Affaires consulaires",
                "Generaldirektion Konsularische Angelegenheiten",
                "Directorate-General for Consular Affairs",
            ),
        ),
        (
            "development",
            (
                "Directie-generaal Ontwikkelingssamenwerking en Humanitaire Hulp",
                "Direction générale Coopération au Développement et Aide humanitaire",
                "Generaldirektion Entwicklungszusammenarbeit und humanitäre Hilfe",
                "Directorate-General for Development Cooperation and Humanitarian Aid",
            ),
        ),
    ),
    "bosa": (
        (
            "procurement",
            (
                "Directoraat-generaal Federale Accountant en Procurement",
                "Direction générale Comptable fédéral et Procurement",
                "Generaldirektion Föderaler Buchhalter und Procurement",
                "Directorate-General for the Federal Accountant and Procurement",
            ),
        ),
        (
            "digital",
            (
                "Directoraat-generaal Digitale Transformatie",
                "Direction générale Transformation digitale",
                "Generaldirektion Digitale Transformation",
                "Directorate-General for Digital Transformation",
            ),
        ),
        (
            "recruitment",
            (
                "Directoraat-generaal Rekrutering en Ontwikkeling",
                "Direction générale Recrutement et Développement",
                "Generaldirektion Rekrutierung und Entwicklung",
                "Directorate-General for Recruitment and Development",
            ),
        ),
    ),
    "defence": (
        (
            "material-resources",
            (
                "Algemene Directie Material Resources",
                "Direction générale Material Resources",
                "Generaldirektion Material Resources",
                "Directorate-General Material Resources",
            ),
        ),
        (
            "land",
            ("Landcomponent", "Composante Terre", "Landkomponente", "Land Component"),
        ),
        (
            "air",
            ("Luchtcomponent", "Composante Air", "Luftkomponente", "Air Component"),
        ),
        (
            "marine",
            ("Marinecomponent", "Composante Marine", "Marinekomponente", "Naval Component"),
        ),
        (
            "medical",
            (
                "Medische Component",
                "Composante Médicale",
                "Medizinische Komponente",
                "Medical Component",
            ),
        ),
    ),
}

# Cities with federal regional offices, with their exonyms (nl, fr, de, en).
FEDERAL_OFFICE_CITIES: tuple[tuple[str, Federal], ...] = (
    ("Antwerpen", ("Antwerpen", "Anvers", "Antwerpen", "Antwerp")),
    ("Gent", ("Gent", "Gand", "Gent", "Ghent")),
    ("Brugge", ("Brugge", "Bruges", "Brügge", "Bruges")),
    ("Leuven", ("Leuven", "Louvain", "Löwen", "Leuven")),
    ("Mechelen", ("Mechelen", "Malines", "Mecheln", "Mechelen")),
    ("Kortrijk", ("Kortrijk", "Courtrai", "Kortrijk", "Kortrijk")),
    ("Oostende", ("Oostende", "Ostende", "Ostende", "Ostend")),
    ("Hasselt", ("Hasselt", "Hasselt", "Hasselt", "Hasselt")),
    ("Aalst", ("Aalst", "Alost", "Aalst", "Aalst")),
    ("Turnhout", ("Turnhout", "Turnhout", "Turnhout", "Turnhout")),
    ("Roeselare", ("Roeselare", "Roulers", "Roeselare", "Roeselare")),
    ("Ieper", ("Ieper", "Ypres", "Ypern", "Ypres")),
    ("Brussel", ("Brussel", "Bruxelles", "Brüssel", "Brussels")),
    ("Liège", ("Luik", "Liège", "Lüttich", "Liège")),
    ("Namur", ("Namen", "Namur", "Namür", "Namur")),
    ("Mons", ("Bergen", "Mons", "Bergen", "Mons")),
    ("Charleroi", ("Charleroi", "Charleroi", "Charleroi", "Charleroi")),
    ("Tournai", ("Doornik", "Tournai", "Tournai", "Tournai")),
    ("Arlon", ("Aarlen", "Arlon", "Arel", "Arlon")),
    ("Wavre", ("Waver", "Wavre", "Wavre", "Wavre")),
    ("Nivelles", ("Nijvel", "Nivelles", "Nivelles", "Nivelles")),
    ("Verviers", ("Verviers", "Verviers", "Verviers", "Verviers")),
    ("Eupen", ("Eupen", "Eupen", "Eupen", "Eupen")),
    ("Huy", ("Hoei", "Huy", "Huy", "Huy")),
    ("Dinant", ("Dinant", "Dinant", "Dinant", "Dinant")),
    ("La Louvière", ("La Louvière", "La Louvière", "La Louvière", "La Louvière")),
    ("Marche-en-Famenne", ("Marche-en-Famenne",) * 4),
    ("Neufchâteau", ("Neufchâteau", "Neufchâteau", "Neufchâteau", "Neufchâteau")),
)

# Kinds of federal service units (nl, fr, de, en), used with a city.
FEDERAL_SERVICE_TOPICS: tuple[Federal, ...] = (
    ("Regionaal kantoor", "Bureau régional", "Regionalbüro", "Regional Office"),
    ("Controlecentrum", "Centre de contrôle", "Kontrollzentrum", "Audit Centre"),
    (
        "Dienst Overheidsopdrachten",
        "Service Marchés publics",
        "Dienst Öffentliche Aufträge",
        "Public Procurement Service",
    ),
    ("Dienst Logistiek", "Service Logistique", "Dienst Logistik", "Logistics Service"),
    ("Juridische dienst", "Service juridique", "Rechtsdienst", "Legal Service"),
    ("Inspectiedienst", "Service d'inspection", "Inspektionsdienst", "Inspection Service"),
    ("Klantendienst", "Service clientèle", "Kundendienst", "Customer Service"),
    (
        "Dienst Personeelsbeheer",
        "Service Gestion du personnel",
        "Dienst Personalverwaltung",
        "Personnel Management Service",
    ),
    ("Dienst Boekhouding", "Service Comptabilité", "Dienst Buchhaltung", "Accounting Service"),
    ("Informaticacentrum", "Centre informatique", "Informatikzentrum", "IT Centre"),
    (
        "Documentatiecentrum",
        "Centre de documentation",
        "Dokumentationszentrum",
        "Documentation Centre",
    ),
    ("Opleidingscentrum", "Centre de formation", "Ausbildungszentrum", "Training Centre"),
    ("Onthaalkantoor", "Bureau d'accueil", "Empfangsbüro", "Reception Office"),
    ("Dienst Geschillen", "Service Contentieux", "Dienst Streitsachen", "Disputes Service"),
    ("Vertaaldienst", "Service de traduction", "Übersetzungsdienst", "Translation Service"),
    (
        "Dienst Interne Audit",
        "Service Audit interne",
        "Dienst Interne Revision",
        "Internal Audit Service",
    ),
)

# (slug, kind, names, seat municipality)
REGIONS_AND_COMMUNITIES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("flemish-region", "region", {"nl": "Vlaams Gewest", "en": "Flemish Region"}, "Brussel"),
    (
        "walloon-region",
        "region",
        {"fr": "Région wallonne", "de": "Wallonische Region", "en": "Walloon Region"},
        "Namur",
    ),
    (
        "brussels-region",
        "region",
        {
            "nl": "Brussels Hoofdstedelijk Gewest",
            "fr": "Région de Bruxelles-Capitale",
            "en": "Brussels-Capital Region",
        },
        "Brussel",
    ),
    (
        "flemish-community",
        "community",
        {"nl": "Vlaamse Gemeenschap", "en": "Flemish Community"},
        "Brussel",
    ),
    (
        "french-community",
        "community",
        {"fr": "Fédération Wallonie-Bruxelles", "en": "Wallonia-Brussels Federation"},
        "Brussel",
    ),
    (
        "german-community",
        "community",
        {
            "de": "Deutschsprachige Gemeinschaft",
            "fr": "Communauté germanophone",
            "en": "German-speaking Community",
        },
        "Eupen",
    ),
)

# (province code, parent region slug, names, capital)
PROVINCES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("ANT", "flemish-region", {"nl": "Provincie Antwerpen"}, "Antwerpen"),
    ("LIE", "walloon-region", {"fr": "Province de Liège", "de": "Provinz Lüttich"}, "Liège"),
    ("OVL", "flemish-region", {"nl": "Provincie Oost-Vlaanderen"}, "Gent"),
    ("HAI", "walloon-region", {"fr": "Province de Hainaut"}, "Mons"),
    ("WVL", "flemish-region", {"nl": "Provincie West-Vlaanderen"}, "Brugge"),
    ("NAM", "walloon-region", {"fr": "Province de Namur"}, "Namur"),
    ("VBR", "flemish-region", {"nl": "Provincie Vlaams-Brabant"}, "Leuven"),
    ("LUX", "walloon-region", {"fr": "Province de Luxembourg"}, "Arlon"),
    ("LIM", "flemish-region", {"nl": "Provincie Limburg"}, "Hasselt"),
    ("BWA", "walloon-region", {"fr": "Province du Brabant wallon"}, "Wavre"),
)

# Agencies and departments: (parent slug, slug, names, seat municipality)


def _named_in(
    language: str, parent: str, rows: tuple[tuple[str, str, str], ...]
) -> tuple[tuple[str, str, dict[str, str], str], ...]:
    return tuple((parent, slug, {language: name}, seat) for slug, name, seat in rows)


_FLEMISH_REGION_BODIES: tuple[tuple[str, str, str], ...] = (
    ("awv", "Agentschap Wegen en Verkeer", "Brussel"),
    ("de-lijn", "Vlaamse Vervoermaatschappij De Lijn", "Mechelen"),
    ("vmm", "Vlaamse Milieumaatschappij", "Aalst"),
    ("ovam", "Openbare Vlaamse Afvalstoffenmaatschappij", "Mechelen"),
    ("digitaal-vlaanderen", "Agentschap Digitaal Vlaanderen", "Gent"),
    ("vdab", "Vlaamse Dienst voor Arbeidsbemiddeling en Beroepsopleiding", "Brussel"),
    ("waterweg", "De Vlaamse Waterweg", "Hasselt"),
    ("anb", "Agentschap voor Natuur en Bos", "Brussel"),
    ("omgeving", "Departement Omgeving", "Brussel"),
    ("mow", "Departement Mobiliteit en Openbare Werken", "Brussel"),
    ("facilitair", "Agentschap Facilitair Bedrijf", "Brussel"),
    ("belastingdienst", "Vlaamse Belastingdienst", "Aalst"),
    ("binnenlands-bestuur", "Agentschap Binnenlands Bestuur", "Brussel"),
    ("vlaio", "Agentschap Innoveren en Ondernemen", "Brussel"),
    ("wonen", "Agentschap Wonen in Vlaanderen", "Brussel"),
    ("veka", "Vlaams Energie- en Klimaatagentschap", "Brussel"),
    ("landbouw", "Departement Landbouw en Visserij", "Brussel"),
    ("de-watergroep", "De Watergroep", "Brussel"),
    ("toerisme", "Toerisme Vlaanderen", "Brussel"),
)

_WALLOON_REGION_BODIES: tuple[tuple[str, str, str], ...] = (
    ("spw-mi", "SPW Mobilité et Infrastructures", "Namur"),
    ("spw-arne", "SPW Agriculture, Ressources naturelles et Environnement", "Namur"),
    ("spw-tlpe", "SPW Territoire, Logement, Patrimoine, Énergie", "Namur"),
    ("spw-ias", "SPW Intérieur et Action sociale", "Namur"),
    ("spw-eer", "SPW Économie, Emploi, Recherche", "Namur"),
    ("spw-fiscalite", "SPW Fiscalité", "Namur"),
    ("spw-digital", "SPW Digital", "Namur"),
    ("spw-support", "SPW Support", "Namur"),
    ("forem", "Le Forem", "Charleroi"),
    ("aviq", "Agence pour une Vie de Qualité", "Charleroi"),
    (
        "sofico",
        "Société wallonne de Financement complémentaire des Infrastructures",
        "Namur",
    ),
    ("otw", "Opérateur de Transport de Wallonie", "Namur"),
    ("awap", "Agence wallonne du Patrimoine", "Namur"),
    ("swl", "Société wallonne du Logement", "Charleroi"),
    (
        "awex",
        "Agence wallonne à l'Exportation et aux Investissements étrangers",
        "Brussel",
    ),
    (
        "iweps",
        "Institut wallon de l'évaluation, de la prospective et de la statistique",
        "Namur",
    ),
    ("swde", "Société wallonne des Eaux", "Verviers"),
)

REGIONAL_BODIES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    *_named_in("nl", "flemish-region", _FLEMISH_REGION_BODIES),
    *_named_in("fr", "walloon-region", _WALLOON_REGION_BODIES),
    (
        "brussels-region",
        "mobility",
        {"nl": "Brussel Mobiliteit", "fr": "Bruxelles Mobilité"},
        "Brussel",
    ),
    (
        "brussels-region",
        "environment",
        {"nl": "Leefmilieu Brussel", "fr": "Bruxelles Environnement"},
        "Brussel",
    ),
    (
        "brussels-region",
        "fiscality",
        {"nl": "Brussel Fiscaliteit", "fr": "Bruxelles Fiscalité"},
        "Brussel",
    ),
    (
        "brussels-region",
        "local-authorities",
        {"nl": "Brussel Plaatselijke Besturen", "fr": "Bruxelles Pouvoirs locaux"},
        "Brussel",
    ),
    (
        "brussels-region",
        "finance-budget",
        {"nl": "Brussel Financiën en Begroting", "fr": "Bruxelles Finances et Budget"},
        "Brussel",
    ),
    ("brussels-region", "actiris", {"nl": "Actiris", "fr": "Actiris"}, "Sint-Joost-ten-Node"),
    (
        "brussels-region",
        "stib",
        {
            "nl": "Maatschappij voor het Intercommunaal Vervoer te Brussel",
            "fr": "Société des Transports Intercommunaux de Bruxelles",
        },
        "Brussel",
    ),
    (
        "brussels-region",
        "net-brussel",
        {"nl": "Net Brussel", "fr": "Bruxelles-Propreté"},
        "Brussel",
    ),
    (
        "brussels-region",
        "siamu",
        {
            "nl": "Brusselse Hoofdstedelijke Dienst voor Brandweer en Dringende Medische Hulp",
            "fr": "Service d'Incendie et d'Aide Médicale Urgente de la Région de "
            "Bruxelles-Capitale",
        },
        "Brussel",
    ),
    ("brussels-region", "paradigm", {"nl": "Paradigm", "fr": "Paradigm"}, "Brussel"),
    ("brussels-region", "urban", {"nl": "urban.brussels", "fr": "urban.brussels"}, "Brussel"),
    (
        "brussels-region",
        "perspective",
        {"nl": "perspective.brussels", "fr": "perspective.brussels"},
        "Brussel",
    ),
    ("brussels-region", "port", {"nl": "Haven van Brussel", "fr": "Port de Bruxelles"}, "Brussel"),
    (
        "brussels-region",
        "housing",
        {
            "nl": "Brusselse Gewestelijke Huisvestingsmaatschappij",
            "fr": "Société du Logement de la Région de Bruxelles-Capitale",
        },
        "Brussel",
    ),
    (
        "brussels-region",
        "prevention",
        {"nl": "Brussel Preventie & Veiligheid", "fr": "Bruxelles Prévention & Sécurité"},
        "Brussel",
    ),
    ("flemish-community", "go", {"nl": "GO! onderwijs van de Vlaamse Gemeenschap"}, "Brussel"),
    ("flemish-community", "opgroeien", {"nl": "Agentschap Opgroeien"}, "Brussel"),
    ("flemish-community", "onderwijs", {"nl": "Departement Onderwijs en Vorming"}, "Brussel"),
    ("flemish-community", "cjm", {"nl": "Departement Cultuur, Jeugd en Media"}, "Brussel"),
    (
        "flemish-community",
        "vrt",
        {"nl": "Vlaamse Radio- en Televisieomroeporganisatie"},
        "Schaarbeek",
    ),
    (
        "french-community",
        "ministry",
        {"fr": "Ministère de la Fédération Wallonie-Bruxelles"},
        "Brussel",
    ),
    ("french-community", "wbe", {"fr": "Wallonie-Bruxelles Enseignement"}, "Brussel"),
    ("french-community", "one", {"fr": "Office de la Naissance et de l'Enfance"}, "Brussel"),
    (
        "french-community",
        "rtbf",
        {"fr": "Radio-Télévision belge de la Communauté française"},
        "Schaarbeek",
    ),
    (
        "french-community",
        "ares",
        {"fr": "Académie de recherche et d'enseignement supérieur"},
        "Brussel",
    ),
    (
        "german-community",
        "ministry",
        {
            "de": "Ministerium der Deutschsprachigen Gemeinschaft",
            "fr": "Ministère de la Communauté germanophone",
        },
        "Eupen",
    ),
    (
        "german-community",
        "adg",
        {
            "de": "Arbeitsamt der Deutschsprachigen Gemeinschaft",
            "fr": "Office de l'emploi de la Communauté germanophone",
        },
        "Sankt Vith",
    ),
    ("german-community", "brf", {"de": "Belgischer Rundfunk"}, "Eupen"),
    ("german-community", "ahs", {"de": "Autonome Hochschule Ostbelgien"}, "Eupen"),
)

# The bodies that run community schools, by teaching language.
COMMUNITY_SCHOOL_BOARDS = {
    "nl": "agency/flemish-community/go",
    "fr": "agency/french-community/wbe",
    "de": "agency/german-community/ministry",
}

# (slug, parent community slug, names, seat)
UNIVERSITIES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("ugent", "flemish-community", {"nl": "Universiteit Gent", "en": "Ghent University"}, "Gent"),
    (
        "uliege",
        "french-community",
        {"fr": "Université de Liège", "en": "University of Liège"},
        "Liège",
    ),
    ("kuleuven", "flemish-community", {"nl": "KU Leuven", "en": "KU Leuven"}, "Leuven"),
    (
        "uclouvain",
        "french-community",
        {"fr": "Université catholique de Louvain", "en": "UCLouvain"},
        "Ottignies-Louvain-la-Neuve",
    ),
    ("ulb", "french-community", {"fr": "Université libre de Bruxelles"}, "Elsene"),
    ("vub", "flemish-community", {"nl": "Vrije Universiteit Brussel"}, "Elsene"),
    (
        "uantwerpen",
        "flemish-community",
        {"nl": "Universiteit Antwerpen", "en": "University of Antwerp"},
        "Antwerpen",
    ),
    ("umons", "french-community", {"fr": "Université de Mons", "en": "University of Mons"}, "Mons"),
    (
        "uhasselt",
        "flemish-community",
        {"nl": "Universiteit Hasselt", "en": "Hasselt University"},
        "Hasselt",
    ),
    (
        "unamur",
        "french-community",
        {"fr": "Université de Namur", "en": "University of Namur"},
        "Namur",
    ),
    ("usaintlouis", "french-community", {"fr": "Université Saint-Louis - Bruxelles"}, "Brussel"),
)

# (slug, parent key, name, seat); the parent is a community, a province or a municipality.
UNIVERSITY_COLLEGES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("hogent", "community/flemish-community", {"nl": "Hogeschool Gent"}, "Gent"),
    ("artevelde", "community/flemish-community", {"nl": "Arteveldehogeschool"}, "Gent"),
    ("ap", "community/flemish-community", {"nl": "AP Hogeschool Antwerpen"}, "Antwerpen"),
    ("kdg", "community/flemish-community", {"nl": "Karel de Grote Hogeschool"}, "Antwerpen"),
    ("thomas-more", "community/flemish-community", {"nl": "Thomas More"}, "Mechelen"),
    ("ucll", "community/flemish-community", {"nl": "UC Leuven-Limburg"}, "Leuven"),
    ("pxl", "community/flemish-community", {"nl": "Hogeschool PXL"}, "Hasselt"),
    ("howest", "community/flemish-community", {"nl": "Howest"}, "Kortrijk"),
    ("vives", "community/flemish-community", {"nl": "Katholieke Hogeschool VIVES"}, "Brugge"),
    ("odisee", "community/flemish-community", {"nl": "Odisee"}, "Brussel"),
    ("ehb", "community/flemish-community", {"nl": "Erasmushogeschool Brussel"}, "Anderlecht"),
    ("luca", "community/flemish-community", {"nl": "LUCA School of Arts"}, "Schaarbeek"),
    ("hepl", "province/lie", {"fr": "Haute École de la Province de Liège"}, "Liège"),
    ("helmo", "community/french-community", {"fr": "Haute École Libre Mosane"}, "Liège"),
    ("charlemagne", "community/french-community", {"fr": "Haute École Charlemagne"}, "Liège"),
    ("helha", "community/french-community", {"fr": "Haute École Louvain en Hainaut"}, "Mons"),
    ("condorcet", "province/hai", {"fr": "Haute École provinciale de Hainaut - Condorcet"}, "Mons"),
    (
        "henallux",
        "community/french-community",
        {"fr": "Haute École de Namur-Liège-Luxembourg"},
        "Namur",
    ),
    (
        "vinci",
        "community/french-community",
        {"fr": "Haute École Léonard de Vinci"},
        "Sint-Lambrechts-Woluwe",
    ),
    ("he2b", "community/french-community", {"fr": "Haute École Bruxelles-Brabant"}, "Brussel"),
    ("ferrer", "municipality/brussel", {"fr": "Haute École Francisco Ferrer"}, "Brussel"),
    (
        "schuman",
        "community/french-community",
        {"fr": "Haute École Robert Schuman"},
        "Libramont-Chevigny",
    ),
    ("hel", "municipality/liege", {"fr": "Haute École de la Ville de Liège"}, "Liège"),
    (
        "helb",
        "community/french-community",
        {"fr": "Haute École Libre de Bruxelles - Ilya Prigogine"},
        "Anderlecht",
    ),
)

# (slug, parent key, names, seat). University hospitals hang under their university,
# public hospitals under their municipality.
HOSPITALS: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("uz-gent", "university/ugent", {"nl": "Universitair Ziekenhuis Gent"}, "Gent"),
    (
        "chu-liege",
        "university/uliege",
        {"fr": "Centre Hospitalier Universitaire de Liège"},
        "Liège",
    ),
    ("uz-leuven", "university/kuleuven", {"nl": "Universitaire Ziekenhuizen Leuven"}, "Leuven"),
    (
        "saint-luc",
        "university/uclouvain",
        {"fr": "Cliniques universitaires Saint-Luc"},
        "Sint-Lambrechts-Woluwe",
    ),
    ("uz-brussel", "university/vub", {"nl": "Universitair Ziekenhuis Brussel"}, "Jette"),
    ("uza", "university/uantwerpen", {"nl": "Universitair Ziekenhuis Antwerpen"}, "Edegem"),
    ("hub", "university/ulb", {"fr": "Hôpital Universitaire de Bruxelles"}, "Anderlecht"),
    ("chu-namur", "university/uclouvain", {"fr": "CHU UCL Namur"}, "Yvoir"),
    ("zna", "municipality/antwerpen", {"nl": "Ziekenhuis Netwerk Antwerpen"}, "Antwerpen"),
    (
        "saint-pierre",
        "municipality/brussel",
        {
            "nl": "Universitair Medisch Centrum Sint-Pieter",
            "fr": "Centre Hospitalier Universitaire Saint-Pierre",
        },
        "Brussel",
    ),
    (
        "brugmann",
        "municipality/brussel",
        {
            "nl": "Universitair Verplegingscentrum Brugmann",
            "fr": "Centre Hospitalier Universitaire Brugmann",
        },
        "Brussel",
    ),
    (
        "iris-sud",
        "municipality/elsene",
        {"nl": "Iris Ziekenhuizen Zuid", "fr": "Hôpitaux Iris Sud"},
        "Elsene",
    ),
    ("az-sint-jan", "municipality/brugge", {"nl": "AZ Sint-Jan Brugge"}, "Brugge"),
    ("az-groeninge", "municipality/kortrijk", {"nl": "AZ Groeninge"}, "Kortrijk"),
    ("jessa", "municipality/hasselt", {"nl": "Jessa Ziekenhuis"}, "Hasselt"),
    ("zol", "municipality/genk", {"nl": "Ziekenhuis Oost-Limburg"}, "Genk"),
    ("az-delta", "municipality/roeselare", {"nl": "AZ Delta"}, "Roeselare"),
    ("az-nikolaas", "municipality/sint-niklaas", {"nl": "AZ Nikolaas"}, "Sint-Niklaas"),
    ("az-sint-lucas", "municipality/gent", {"nl": "AZ Sint-Lucas Gent"}, "Gent"),
    ("olv-aalst", "municipality/aalst", {"nl": "OLV Ziekenhuis Aalst"}, "Aalst"),
    ("az-damiaan", "municipality/oostende", {"nl": "AZ Damiaan"}, "Oostende"),
    ("jan-yperman", "municipality/ieper", {"nl": "Jan Yperman Ziekenhuis"}, "Ieper"),
    ("az-turnhout", "municipality/turnhout", {"nl": "AZ Turnhout"}, "Turnhout"),
    ("ghdc", "municipality/charleroi", {"fr": "Grand Hôpital de Charleroi"}, "Charleroi"),
    (
        "citadelle",
        "municipality/liege",
        {"fr": "Centre Hospitalier Régional de la Citadelle"},
        "Liège",
    ),
    (
        "chr-namur",
        "municipality/namur",
        {"fr": "Centre Hospitalier Régional Sambre et Meuse"},
        "Namur",
    ),
    (
        "chr-verviers",
        "municipality/verviers",
        {"fr": "Centre Hospitalier Régional Verviers East Belgium"},
        "Verviers",
    ),
    ("chwapi", "municipality/tournai", {"fr": "Centre Hospitalier de Wallonie picarde"}, "Tournai"),
    ("ch-mouscron", "municipality/mouscron", {"fr": "Centre Hospitalier de Mouscron"}, "Mouscron"),
    (
        "ambroise-pare",
        "municipality/mons",
        {"fr": "Centre Hospitalier Universitaire Ambroise Paré"},
        "Mons",
    ),
    ("jolimont", "municipality/la-louviere", {"fr": "Hôpital de Jolimont"}, "La Louvière"),
    ("chr-huy", "municipality/huy", {"fr": "Centre Hospitalier Régional de Huy"}, "Huy"),
    ("vivalia", "province/lux", {"fr": "Vivalia"}, "Libramont-Chevigny"),
    (
        "st-nikolaus",
        "municipality/eupen",
        {"de": "St. Nikolaus-Hospital", "fr": "Hôpital Saint-Nicolas"},
        "Eupen",
    ),
    (
        "st-josef",
        "municipality/sankt-vith",
        {"de": "Klinik St. Josef", "fr": "Clinique Saint-Joseph"},
        "Sankt Vith",
    ),
)

# (slug, parent key, names, seat)
INTERMUNICIPAL: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("fluvius", "region/flemish-region", {"nl": "Fluvius System Operator"}, "Melle"),
    ("farys", "region/flemish-region", {"nl": "Farys"}, "Gent"),
    ("cipal", "region/flemish-region", {"nl": "Cipal"}, "Geel"),
    ("pidpa", "province/ant", {"nl": "Pidpa"}, "Antwerpen"),
    ("igean", "province/ant", {"nl": "IGEAN dienstverlening"}, "Wommelgem"),
    (
        "iok",
        "province/ant",
        {"nl": "Intercommunale Ontwikkelingsmaatschappij voor de Kempen"},
        "Geel",
    ),
    ("igemo", "province/ant", {"nl": "IGEMO"}, "Mechelen"),
    ("ivago", "province/ovl", {"nl": "IVAGO"}, "Gent"),
    ("veneco", "province/ovl", {"nl": "Veneco"}, "Gent"),
    ("interwaas", "province/ovl", {"nl": "Interwaas"}, "Sint-Niklaas"),
    ("ivm", "province/ovl", {"nl": "Intergemeentelijke Vereniging Meetjesland"}, "Eeklo"),
    ("verko", "province/ovl", {"nl": "Verko"}, "Dendermonde"),
    ("ilva", "province/ovl", {"nl": "ILvA"}, "Aalst"),
    ("leiedal", "province/wvl", {"nl": "Intercommunale Leiedal"}, "Kortrijk"),
    ("wvi", "province/wvl", {"nl": "West-Vlaamse Intercommunale"}, "Brugge"),
    ("imog", "province/wvl", {"nl": "Imog"}, "Harelbeke"),
    ("ivvo", "province/wvl", {"nl": "IVVO"}, "Ieper"),
    ("mirom", "province/wvl", {"nl": "Mirom Roeselare"}, "Roeselare"),
    ("interleuven", "province/vbr", {"nl": "Interleuven"}, "Leuven"),
    ("ecowerf", "province/vbr", {"nl": "EcoWerf"}, "Leuven"),
    ("haviland", "province/vbr", {"nl": "Haviland"}, "Asse"),
    ("limburg-net", "province/lim", {"nl": "Limburg.net"}, "Hasselt"),
    ("ores", "region/walloon-region", {"fr": "ORES Assets"}, "Ottignies-Louvain-la-Neuve"),
    (
        "imio",
        "region/walloon-region",
        {"fr": "Intercommunale de Mutualisation en matière Informatique et Organisationnelle"},
        "Gembloux",
    ),
    ("intradel", "province/lie", {"fr": "Intradel"}, "Herstal"),
    ("spi", "province/lie", {"fr": "SPI"}, "Liège"),
    (
        "aide",
        "province/lie",
        {"fr": "Association Intercommunale pour le Démergement et l'Épuration"},
        "Liège",
    ),
    ("cile", "province/lie", {"fr": "Compagnie Intercommunale Liégeoise des Eaux"}, "Liège"),
    ("resa", "province/lie", {"fr": "RESA"}, "Liège"),
    ("ecetia", "province/lie", {"fr": "Ecetia Intercommunale"}, "Liège"),
    ("idelux", "province/lux", {"fr": "IDELUX Développement"}, "Arlon"),
    ("igretec", "province/hai", {"fr": "IGRETEC"}, "Charleroi"),
    ("ipalle", "province/hai", {"fr": "IPALLE"}, "Tournai"),
    ("idea", "province/hai", {"fr": "IDEA"}, "Mons"),
    ("hygea", "province/hai", {"fr": "Hygea"}, "Mons"),
    ("ideta", "province/hai", {"fr": "IDETA"}, "Tournai"),
    ("bep", "province/nam", {"fr": "Bureau Économique de la Province de Namur"}, "Namur"),
    ("inbw", "province/bwa", {"fr": "Intercommunale du Brabant wallon"}, "Nivelles"),
    ("sibelga", "region/brussels-region", {"nl": "Sibelga", "fr": "Sibelga"}, "Brussel"),
    ("vivaqua", "region/brussels-region", {"nl": "Vivaqua", "fr": "Vivaqua"}, "Brussel"),
)

# (slug, province code, names, seat)
FIRE_ZONES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("antwerpen", "ANT", {"nl": "Brandweer Zone Antwerpen"}, "Antwerpen"),
    ("rand", "ANT", {"nl": "Brandweerzone Rand"}, "Kapellen"),
    ("kempen", "ANT", {"nl": "Brandweerzone Kempen"}, "Geel"),
    ("rivierenland", "ANT", {"nl": "Brandweer Zone Rivierenland"}, "Mechelen"),
    ("taxandria", "ANT", {"nl": "Brandweerzone Taxandria"}, "Turnhout"),
    ("centrum", "OVL", {"nl": "Brandweerzone Centrum"}, "Gent"),
    ("meetjesland", "OVL", {"nl": "Hulpverleningszone Meetjesland"}, "Eeklo"),
    ("waasland", "OVL", {"nl": "Hulpverleningszone Waasland"}, "Sint-Niklaas"),
    ("vlaamse-ardennen", "OVL", {"nl": "Brandweerzone Vlaamse Ardennen"}, "Oudenaarde"),
    ("zuid-oost", "OVL", {"nl": "Brandweer Zone Zuid-Oost"}, "Aalst"),
    ("zone-1", "WVL", {"nl": "Hulpverleningszone 1 West-Vlaanderen"}, "Brugge"),
    ("fluvia", "WVL", {"nl": "Hulpverleningszone Fluvia"}, "Kortrijk"),
    ("westhoek", "WVL", {"nl": "Hulpverleningszone Westhoek"}, "Ieper"),
    ("midwest", "WVL", {"nl": "Hulpverleningszone Midwest"}, "Roeselare"),
    ("vlaams-brabant-west", "VBR", {"nl": "Hulpverleningszone Vlaams-Brabant West"}, "Vilvoorde"),
    ("oost-vlaams-brabant", "VBR", {"nl": "Hulpverleningszone Oost Vlaams-Brabant"}, "Leuven"),
    ("noord-limburg", "LIM", {"nl": "Hulpverleningszone Noord-Limburg"}, "Lommel"),
    ("oost-limburg", "LIM", {"nl": "Hulpverleningszone Oost-Limburg"}, "Genk"),
    ("zuid-west-limburg", "LIM", {"nl": "Hulpverleningszone Zuid-West Limburg"}, "Hasselt"),
    ("liege-2", "LIE", {"fr": "Zone de secours Liège 2 IILE-SRI"}, "Liège"),
    ("vhp", "LIE", {"fr": "Zone de secours Vesdre-Hoëgne & Plateau"}, "Verviers"),
    ("hesbaye", "LIE", {"fr": "Zone de secours Hesbaye"}, "Waremme"),
    ("hemeco", "LIE", {"fr": "Zone de secours HEMECO"}, "Huy"),
    ("wal", "LIE", {"fr": "Zone de secours Warche-Amblève-Lienne"}, "Malmedy"),
    ("dg", "LIE", {"de": "Hilfeleistungszone 6 DG", "fr": "Zone de secours 6 DG"}, "Eupen"),
    ("hainaut-centre", "HAI", {"fr": "Zone de secours Hainaut-Centre"}, "Mons"),
    ("hainaut-est", "HAI", {"fr": "Zone de secours Hainaut-Est"}, "Charleroi"),
    ("wallonie-picarde", "HAI", {"fr": "Zone de secours Wallonie picarde"}, "Tournai"),
    ("nage", "NAM", {"fr": "Zone de secours NAGE"}, "Namur"),
    ("dinaphi", "NAM", {"fr": "Zone de secours DINAPHI"}, "Dinant"),
    ("val-de-sambre", "NAM", {"fr": "Zone de secours Val de Sambre"}, "Sambreville"),
    ("luxembourg", "LUX", {"fr": "Zone de secours Luxembourg"}, "Marche-en-Famenne"),
    ("brabant-wallon", "BWA", {"fr": "Zone de secours du Brabant wallon"}, "Wavre"),
)

# Police zones whose real names are known; the other zones are grouped from neighbouring
# municipalities. (slug, names, member municipalities)
NAMED_POLICE_ZONES: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    (
        "brussel-hoofdstad-elsene",
        {
            "nl": "Politiezone Brussel-Hoofdstad-Elsene",
            "fr": "Zone de police Bruxelles-Capitale Ixelles",
        },
        ("Brussel", "Elsene"),
    ),
    (
        "zuid",
        {"nl": "Politiezone Zuid", "fr": "Zone de police Midi"},
        ("Anderlecht", "Sint-Gillis", "Vorst"),
    ),
    (
        "brussel-west",
        {"nl": "Politiezone Brussel-West", "fr": "Zone de police Bruxelles-Ouest"},
        ("Sint-Jans-Molenbeek", "Jette", "Ganshoren", "Koekelberg", "Sint-Agatha-Berchem"),
    ),
    (
        "marlow",
        {"nl": "Politiezone Marlow", "fr": "Zone de police Marlow"},
        ("Ukkel", "Watermaal-Bosvoorde", "Oudergem"),
    ),
    (
        "montgomery",
        {"nl": "Politiezone Montgomery", "fr": "Zone de police Montgomery"},
        ("Etterbeek", "Sint-Lambrechts-Woluwe", "Sint-Pieters-Woluwe"),
    ),
    (
        "brussel-noord",
        {"nl": "Politiezone Brussel-Noord", "fr": "Zone de police Bruxelles-Nord"},
        ("Schaarbeek", "Evere", "Sint-Joost-ten-Node"),
    ),
    (
        "weser-gohl",
        {"de": "Polizeizone Weser-Göhl", "fr": "Zone de police Weser-Göhl"},
        ("Eupen", "Kelmis", "Lontzen", "Raeren"),
    ),
    (
        "eifel",
        {"de": "Polizeizone Eifel", "fr": "Zone de police Eifel"},
        ("Sankt Vith", "Amel", "Büllingen", "Burg-Reuland", "Bütgenbach"),
    ),
)
