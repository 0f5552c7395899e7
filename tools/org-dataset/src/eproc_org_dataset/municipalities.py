"""The 581 Belgian municipalities (the map of 2019-2024) with their main postcode.

The 2025 Flemish mergers are not applied: the 2019 map is the one most existing data
(and most people's memory) refers to. One block per province; a line is
``postcode name``. Brussels lines are ``postcode nl-name|fr-name`` and the
German-speaking lines ``postcode de-name|fr-name``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Language areas. A municipality's area decides the languages its organisations are
# named in: nl, fr, de (German-speaking: de + fr) and bxl (Brussels: nl + fr).
NL, FR, DE, BXL = "nl", "fr", "de", "bxl"


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality with its names per official language and its main postcode."""

    names: dict[str, str]
    postcode: str
    province: str | None  # None for the 19 Brussels municipalities
    area: str

    @property
    def name(self) -> str:
        """The name in the first official language (nl in Brussels, de in the east)."""
        return next(iter(self.names.values()))


_ANT = """
2630 Aartselaar
2000 Antwerpen
2370 Arendonk
2387 Baarle-Hertog
2490 Balen
2340 Beerse
2590 Berlaar
2530 Boechout
2820 Bonheiden
2850 Boom
2880 Bornem
2150 Borsbeek
2930 Brasschaat
2960 Brecht
2480 Dessel
2570 Duffel
2650 Edegem
2910 Essen
2440 Geel
2280 Grobbendonk
2220 Heist-op-den-Berg
2620 Hemiksem
2200 Herentals
2270 Herenthout
2230 Herselt
2320 Hoogstraten
2540 Hove
2235 Hulshout
2920 Kalmthout
2950 Kapellen
2460 Kasterlee
2550 Kontich
2430 Laakdal
2500 Lier
2275 Lille
2547 Lint
2390 Malle
2800 Mechelen
2450 Meerhout
2330 Merksplas
2400 Mol
2640 Mortsel
2845 Niel
2560 Nijlen
2250 Olen
2360 Oud-Turnhout
2580 Putte
2870 Puurs-Sint-Amands
2520 Ranst
2380 Ravels
2470 Retie
2310 Rijkevorsel
2840 Rumst
2627 Schelle
2970 Schilde
2900 Schoten
2860 Sint-Katelijne-Waver
2940 Stabroek
2300 Turnhout
2290 Vorselaar
2350 Vosselaar
2260 Westerlo
2110 Wijnegem
2830 Willebroek
2160 Wommelgem
2990 Wuustwezel
2240 Zandhoven
2980 Zoersel
2070 Zwijndrecht
"""

_LIM = """
3665 As
3570 Alken
3580 Beringen
3740 Bilzen
3950 Bocholt
3840 Borgloon
3960 Bree
3590 Diepenbeek
3650 Dilsen-Stokkem
3600 Genk
3890 Gingelom
3545 Halen
3945 Ham
3930 Hamont-Achel
3500 Hasselt
3940 Hechtel-Eksel
3870 Heers
3540 Herk-de-Stad
3717 Herstappe
3550 Heusden-Zolder
3730 Hoeselt
3530 Houthalen-Helchteren
3640 Kinrooi
3720 Kortessem
3620 Lanaken
3970 Leopoldsburg
3920 Lommel
3560 Lummen
3680 Maaseik
3630 Maasmechelen
3850 Nieuwerkerken
3660 Oudsbergen
3990 Peer
3900 Pelt
3770 Riemst
3800 Sint-Truiden
3980 Tessenderlo
3700 Tongeren
3790 Voeren
3830 Wellen
3520 Zonhoven
3690 Zutendaal
"""

_OVL = """
9300 Aalst
9880 Aalter
9960 Assenede
9290 Berlare
9120 Beveren
9660 Brakel
9255 Buggenhout
9840 De Pinte
9800 Deinze
9470 Denderleeuw
9200 Dendermonde
9070 Destelbergen
9900 Eeklo
9420 Erpe-Mere
9940 Evergem
9890 Gavere
9000 Gent
9500 Geraardsbergen
9450 Haaltert
9220 Hamme
9550 Herzele
9667 Horebeke
9970 Kaprijke
9690 Kluisbergen
9150 Kruibeke
9770 Kruisem
9270 Laarne
9280 Lebbeke
9340 Lede
9570 Lierde
9930 Lievegem
9080 Lochristi
9160 Lokeren
9680 Maarkedal
9990 Maldegem
9090 Melle
9820 Merelbeke
9180 Moerbeke
9810 Nazareth
9400 Ninove
9860 Oosterzele
9700 Oudenaarde
9600 Ronse
9170 Sint-Gillis-Waas
9980 Sint-Laureins
9520 Sint-Lievens-Houtem
9830 Sint-Martens-Latem
9100 Sint-Niklaas
9190 Stekene
9140 Temse
9250 Waasmunster
9185 Wachtebeke
9230 Wetteren
9260 Wichelen
9790 Wortegem-Petegem
9240 Zele
9060 Zelzate
9620 Zottegem
9870 Zulte
9630 Zwalm
"""

_VBR = """
3200 Aarschot
1790 Affligem
1730 Asse
1650 Beersel
3130 Begijnendijk
3460 Bekkevoort
3060 Bertem
1547 Bever
3360 Bierbeek
3190 Boortmeerbeek
3370 Boutersem
3290 Diest
1700 Dilbeek
1620 Drogenbos
1570 Galmaarden
3450 Geetbets
3380 Glabbeek
1755 Gooik
1850 Grimbergen
3150 Haacht
1500 Halle
3020 Herent
1540 Herne
3320 Hoegaarden
1560 Hoeilaart
3220 Holsbeek
3040 Huldenberg
1910 Kampenhout
1880 Kapelle-op-den-Bos
3140 Keerbergen
3470 Kortenaken
3070 Kortenberg
1950 Kraainem
3400 Landen
1750 Lennik
3000 Leuven
1770 Liedekerke
1630 Linkebeek
3350 Linter
1840 Londerzeel
3210 Lubbeek
1830 Machelen
1860 Meise
1785 Merchtem
1745 Opwijk
3050 Oud-Heverlee
3090 Overijse
1670 Pepingen
1760 Roosdaal
3110 Rotselaar
3270 Scherpenheuvel-Zichem
1640 Sint-Genesius-Rode
1600 Sint-Pieters-Leeuw
1820 Steenokkerzeel
1740 Ternat
3080 Tervuren
3390 Tielt-Winge
3300 Tienen
3120 Tremelo
1800 Vilvoorde
1780 Wemmel
1970 Wezembeek-Oppem
1930 Zaventem
1980 Zemst
3440 Zoutleeuw
"""

_WVL = """
8690 Alveringem
8570 Anzegem
8850 Ardooie
8580 Avelgem
8730 Beernem
8370 Blankenberge
8450 Bredene
8000 Brugge
8340 Damme
8420 De Haan
8660 De Panne
8540 Deerlijk
8720 Dentergem
8600 Diksmuide
8470 Gistel
8530 Harelbeke
8950 Heuvelland
8830 Hooglede
8650 Houthulst
8480 Ichtegem
8900 Ieper
8770 Ingelmunster
8870 Izegem
8490 Jabbeke
8300 Knokke-Heist
8680 Koekelare
8670 Koksijde
8610 Kortemark
8500 Kortrijk
8520 Kuurne
8920 Langemark-Poelkapelle
8880 Ledegem
8860 Lendelede
8810 Lichtervelde
8647 Lo-Reninge
8930 Menen
8957 Mesen
8760 Meulebeke
8430 Middelkerke
8890 Moorslede
8620 Nieuwpoort
8400 Oostende
8020 Oostkamp
8780 Oostrozebeke
8460 Oudenburg
8740 Pittem
8970 Poperinge
8800 Roeselare
8755 Ruiselede
8587 Spiere-Helkijn
8840 Staden
8700 Tielt
8820 Torhout
8630 Veurne
8640 Vleteren
8790 Waregem
8940 Wervik
8560 Wevelgem
8710 Wielsbeke
8750 Wingene
8210 Zedelgem
8980 Zonnebeke
8377 Zuienkerke
8550 Zwevegem
"""

_BWA = """
1320 Beauvechain
1420 Braine-l'Alleud
1440 Braine-le-Château
1450 Chastre
1325 Chaumont-Gistoux
1490 Court-Saint-Étienne
1470 Genappe
1390 Grez-Doiceau
1357 Hélécine
1315 Incourt
1460 Ittre
1370 Jodoigne
1310 La Hulpe
1380 Lasne
1435 Mont-Saint-Guibert
1400 Nivelles
1350 Orp-Jauche
1340 Ottignies-Louvain-la-Neuve
1360 Perwez
1367 Ramillies
1430 Rebecq
1330 Rixensart
1480 Tubize
1495 Villers-la-Ville
1457 Walhain
1410 Waterloo
1300 Wavre
"""

_HAI = """
6250 Aiseau-Presles
6150 Anderlues
7640 Antoing
7800 Ath
6500 Beaumont
7970 Belœil
7320 Bernissart
7130 Binche
7300 Boussu
7090 Braine-le-Comte
7940 Brugelette
7620 Brunehaut
7760 Celles
7160 Chapelle-lez-Herlaimont
6000 Charleroi
6200 Châtelet
7950 Chièvres
6460 Chimay
7340 Colfontaine
7780 Comines-Warneton
6180 Courcelles
7370 Dour
7190 Écaussinnes
7890 Ellezelles
7850 Enghien
6560 Erquelinnes
7730 Estaimpuis
7120 Estinnes
6240 Farciennes
6220 Fleurus
7880 Flobecq
6140 Fontaine-l'Évêque
7080 Frameries
7910 Frasnes-lez-Anvaing
6440 Froidchapelle
6280 Gerpinnes
6120 Ham-sur-Heure-Nalinnes
7350 Hensies
7387 Honnelles
7050 Jurbise
7100 La Louvière
7070 Le Rœulx
7870 Lens
6210 Les Bons Villers
7860 Lessines
7900 Leuze-en-Hainaut
6540 Lobbes
7170 Manage
6567 Merbes-le-Château
6590 Momignies
7000 Mons
7750 Mont-de-l'Enclus
6110 Montigny-le-Tilleul
7140 Morlanwelz
7700 Mouscron
7740 Pecq
7600 Péruwelz
6230 Pont-à-Celles
7390 Quaregnon
7040 Quévy
7380 Quiévrain
7610 Rumes
7330 Saint-Ghislain
7180 Seneffe
7830 Silly
6470 Sivry-Rance
7060 Soignies
6530 Thuin
7500 Tournai
"""

_LIE = """
4540 Amay
4430 Ans
4160 Anthisnes
4880 Aubel
4340 Awans
4920 Aywaille
4837 Baelen
4690 Bassenge
4257 Berloz
4610 Beyne-Heusay
4670 Blegny
4260 Braives
4210 Burdinne
4050 Chaudfontaine
4560 Clavier
4170 Comblain-au-Pont
4367 Crisnée
4607 Dalhem
4820 Dison
4357 Donceel
4480 Engis
4130 Esneux
4317 Faimes
4190 Ferrières
4347 Fexhe-le-Haut-Clocher
4400 Flémalle
4620 Fléron
4250 Geer
4460 Grâce-Hollogne
4180 Hamoir
4280 Hannut
4217 Héron
4040 Herstal
4650 Herve
4500 Huy
4845 Jalhay
4450 Juprelle
4000 Liège
4990 Lierneux
4830 Limbourg
4287 Lincent
4960 Malmedy
4570 Marchin
4577 Modave
4550 Nandrin
4120 Neupré
4877 Olne
4360 Oreye
4590 Ouffet
4680 Oupeye
4860 Pepinster
4850 Plombières
4350 Remicourt
4470 Saint-Georges-sur-Meuse
4420 Saint-Nicolas
4100 Seraing
4630 Soumagne
4900 Spa
4140 Sprimont
4970 Stavelot
4987 Stoumont
4910 Theux
4890 Thimister-Clermont
4557 Tinlot
4980 Trois-Ponts
4870 Trooz
4537 Verlaine
4800 Verviers
4530 Villers-le-Bouillet
4600 Visé
4950 Waimes
4520 Wanze
4300 Waremme
4219 Wasseiges
4840 Welkenraedt
"""

# The nine municipalities of the German-speaking Community (province of Liège).
_LIE_DE = """
4770 Amel|Amblève
4760 Büllingen|Bullange
4790 Burg-Reuland|Burg-Reuland
4750 Bütgenbach|Butgenbach
4700 Eupen|Eupen
4720 Kelmis|La Calamine
4710 Lontzen|Lontzen
4730 Raeren|Raeren
4780 Sankt Vith|Saint-Vith
"""

_LUX = """
6700 Arlon
6717 Attert
6790 Aubange
6600 Bastogne
6687 Bertogne
6880 Bertrix
6830 Bouillon
6810 Chiny
6929 Daverdisse
6940 Durbuy
6997 Érezée
6740 Étalle
6637 Fauvillers
6820 Florenville
6670 Gouvy
6720 Habay
6887 Herbeumont
6990 Hotton
6660 Houffalize
6980 La Roche-en-Ardenne
6860 Léglise
6890 Libin
6800 Libramont-Chevigny
6960 Manhay
6900 Marche-en-Famenne
6630 Martelange
6769 Meix-devant-Virton
6780 Messancy
6750 Musson
6950 Nassogne
6840 Neufchâteau
6850 Paliseul
6987 Rendeux
6767 Rouvroy
6870 Saint-Hubert
6747 Saint-Léger
6680 Sainte-Ode
6927 Tellin
6970 Tenneville
6730 Tintigny
6640 Vaux-sur-Sûre
6690 Vielsalm
6760 Virton
6920 Wellin
"""

_NAM = """
5300 Andenne
5537 Anhée
5330 Assesse
5570 Beauraing
5555 Bièvre
5630 Cerfontaine
5590 Ciney
5660 Couvin
5500 Dinant
5680 Doische
5310 Éghezée
5380 Fernelmont
5150 Floreffe
5620 Florennes
5070 Fosses-la-Ville
5575 Gedinne
5030 Gembloux
5340 Gesves
5360 Hamois
5540 Hastière
5370 Havelange
5560 Houyet
5190 Jemeppe-sur-Sambre
5080 La Bruyère
5640 Mettet
5000 Namur
5350 Ohey
5520 Onhaye
5600 Philippeville
5170 Profondeville
5580 Rochefort
5060 Sambreville
5140 Sombreffe
5377 Somme-Leuze
5670 Viroinval
5550 Vresse-sur-Semois
5650 Walcourt
5530 Yvoir
"""

_BRU = """
1070 Anderlecht|Anderlecht
1160 Oudergem|Auderghem
1082 Sint-Agatha-Berchem|Berchem-Sainte-Agathe
1000 Brussel|Bruxelles
1040 Etterbeek|Etterbeek
1140 Evere|Evere
1190 Vorst|Forest
1083 Ganshoren|Ganshoren
1050 Elsene|Ixelles
1090 Jette|Jette
1081 Koekelberg|Koekelberg
1080 Sint-Jans-Molenbeek|Molenbeek-Saint-Jean
1060 Sint-Gillis|Saint-Gilles
1210 Sint-Joost-ten-Node|Saint-Josse-ten-Noode
1030 Schaarbeek|Schaerbeek
1180 Ukkel|Uccle
1170 Watermaal-Bosvoorde|Watermael-Boitsfort
1200 Sint-Lambrechts-Woluwe|Woluwe-Saint-Lambert
1150 Sint-Pieters-Woluwe|Woluwe-Saint-Pierre
"""

# (block, province code, language area, languages of a "a|b" line)
_BLOCKS: tuple[tuple[str, str | None, str, tuple[str, ...]], ...] = (
    (_ANT, "ANT", NL, ("nl",)),
    (_LIM, "LIM", NL, ("nl",)),
    (_OVL, "OVL", NL, ("nl",)),
    (_VBR, "VBR", NL, ("nl",)),
    (_WVL, "WVL", NL, ("nl",)),
    (_BWA, "BWA", FR, ("fr",)),
    (_HAI, "HAI", FR, ("fr",)),
    (_LIE, "LIE", FR, ("fr",)),
    (_LIE_DE, "LIE", DE, ("de", "fr")),
    (_LUX, "LUX", FR, ("fr",)),
    (_NAM, "NAM", FR, ("fr",)),
    (_BRU, None, BXL, ("nl", "fr")),
)


def _parse() -> tuple[Municipality, ...]:
    result = []
    for block, province, area, languages in _BLOCKS:
        for line in block.strip().splitlines():
            postcode, _, rest = line.partition(" ")
            names = dict(zip(languages, rest.split("|"), strict=True))
            result.append(Municipality(names, postcode, province, area))
    return tuple(result)


MUNICIPALITIES: tuple[Municipality, ...] = _parse()
MUNICIPALITY_BY_NAME: dict[str, Municipality] = {m.name: m for m in MUNICIPALITIES}

# Roughly by population, largest first: the order in which municipalities enter a small
# dataset, so that a 50-organisation sample already holds the places people know.
MAJOR_MUNICIPALITIES: tuple[str, ...] = (
    "Antwerpen",
    "Gent",
    "Charleroi",
    "Liège",
    "Brussel",
    "Schaarbeek",
    "Anderlecht",
    "Brugge",
    "Namur",
    "Leuven",
    "Sint-Jans-Molenbeek",
    "Mons",
    "Elsene",
    "Aalst",
    "Mechelen",
    "Eupen",
    "Ukkel",
    "La Louvière",
    "Kortrijk",
    "Hasselt",
    "Sint-Niklaas",
    "Oostende",
    "Tournai",
    "Genk",
    "Seraing",
    "Roeselare",
    "Verviers",
    "Mouscron",
    "Arlon",
    "Wavre",
    "Vorst",
    "Sint-Lambrechts-Woluwe",
    "Beveren",
    "Dendermonde",
    "Turnhout",
    "Dilbeek",
    "Vilvoorde",
    "Sint-Truiden",
    "Herstal",
    "Braine-l'Alleud",
    "Ottignies-Louvain-la-Neuve",
    "Sankt Vith",
    "Bastogne",
    "Nivelles",
    "Ieper",
    "Lier",
    "Halle",
    "Waregem",
    "Châtelet",
    "Écaussinnes",
)
