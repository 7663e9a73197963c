"""The demo program loaded by `manage.py seed_demo`: the real program of the announcement
(ten creators per cohort, $25,000 donations, a $1M fund, a 50-creator global list).

The four named creators are from the announcement; every other person and organisation here
is invented for the demo, and every registration number is fictional.
"""

from changemakers.core.roles import StaffRole
from creators.models import Cause, PublicField

# One staff sign-in per role (login: its roles), so each role's pages can be tried. Two
# finance approvers: a decision that needs a second one has someone to ask.
STAFF_LOGINS = {
    "staff@changemakers.example": [StaffRole.PROGRAM_MANAGER],
    "finance@changemakers.example": [StaffRole.FINANCE_APPROVER],
    "finance2@changemakers.example": [StaffRole.FINANCE_APPROVER],
    "vetter@changemakers.example": [StaffRole.NONPROFIT_VETTER],
    "auditor@changemakers.example": [StaffRole.AUDITOR],
}

# (display name, handle, country, causes, followers, bio)
NAMED_CREATORS = [
    (
        "Joel Bervell",
        "joelbervell",
        "US",
        [Cause.HEALTH, Cause.EDUCATION],
        1_200_000,
        "Medical student explaining medicine, and the racial bias hidden in it, one myth at a "
        "time.",
    ),
    (
        "Kara Lewis",
        "karaxlewis",
        "US",
        [Cause.ARTS, Cause.EQUALITY],
        640_000,
        "Photographer telling the stories of people the camera usually passes by.",
    ),
    (
        "Jason Linton",
        "dadlifejason",
        "US",
        [Cause.EDUCATION, Cause.DISABILITY],
        4_100_000,
        "Special education teacher and dad sharing kindness, patience and classroom wins.",
    ),
    (
        "Eli Virkina",
        "elivirkina",
        "US",
        [Cause.ENVIRONMENT],
        890_000,
        "Environmental storyteller making climate science something you want to watch.",
    ),
]

# The rest of the global list: (display name, handle, country, cause).
LIST_CREATORS = [
    ("Wanjiru Kamau", "wanjiru.reads", "KE", Cause.EDUCATION),
    ("Otieno Odhiambo", "otieno_greens", "KE", Cause.ENVIRONMENT),
    ("Achieng Atieno", "achieng.health", "KE", Cause.HEALTH),
    ("Kipchoge Rono", "runwithrono", "KE", Cause.ACTIVISM),
    ("Mei Ling Tan", "meiling.minds", "SG", Cause.MENTAL_HEALTH),
    ("Arjun Nair", "arjun_codes_sg", "SG", Cause.EDUCATION),
    ("Siti Rahman", "siti.zerowaste", "SG", Cause.ENVIRONMENT),
    ("Nora Al-Qahtani", "nora.learns", "SA", Cause.EDUCATION),
    ("Faisal Al-Harbi", "faisal.gives", "SA", Cause.POVERTY),
    ("Lama Al-Otaibi", "lama.art", "SA", Cause.ARTS),
    ("Youssef Mansour", "youssef.science", "EG", Cause.EDUCATION),
    ("Mariam Fathy", "mariam.speaks", "EG", Cause.ADVOCACY),
    ("Karim Adel", "karim.nile", "EG", Cause.ENVIRONMENT),
    ("Amelia Hughes", "amelia.signs", "GB", Cause.DISABILITY),
    ("Oliver Bennett", "ollie.talks", "GB", Cause.MENTAL_HEALTH),
    ("Priya Shah", "priya.pharmacist", "GB", Cause.HEALTH),
    ("Callum Reid", "callum.rewilds", "GB", Cause.ENVIRONMENT),
    ("Maria Santos", "maria.teaches.ph", "PH", Cause.EDUCATION),
    ("Jose Reyes", "jose.reef", "PH", Cause.ENVIRONMENT),
    ("Angelica Cruz", "angelica.nurse", "PH", Cause.HEALTH),
    ("Paolo Garcia", "paolo.bayanihan", "PH", Cause.POVERTY),
    ("Lucia Fernandez", "lucia.incluye", "ES", Cause.EQUALITY),
    ("Javier Moreno", "javi.mar", "ES", Cause.ENVIRONMENT),
    ("Carmen Ruiz", "carmen.salud", "ES", Cause.HEALTH),
    ("Chiamaka Okafor", "chiamaka.codes", "NG", Cause.EDUCATION),
    ("Tunde Adeyemi", "tunde.builds", "NG", Cause.POVERTY),
    ("Ngozi Eze", "ngozi.speaks", "NG", Cause.ADVOCACY),
    ("Emeka Obi", "emeka.greens", "NG", Cause.ENVIRONMENT),
    ("Sophie Tremblay", "sophie.northern", "CA", Cause.ENVIRONMENT),
    ("Liam O'Connor", "liam.access", "CA", Cause.DISABILITY),
    ("Aisha Mohamed", "aisha.newcomers", "CA", Cause.EQUALITY),
    ("Ethan Wong", "ethan.mindful", "CA", Cause.MENTAL_HEALTH),
    ("Maya Johnson", "maya.votes", "US", Cause.ACTIVISM),
    ("Diego Hernandez", "diego.dreams", "US", Cause.ADVOCACY),
    ("Grace Kim", "grace.scrubs", "US", Cause.HEALTH),
    ("Amara Diallo", "amara.sahel", "SN", Cause.ENVIRONMENT),
    ("Lucas Silva", "lucas.favela", "BR", Cause.POVERTY),
    ("Ana Costa", "ana.amazonia", "BR", Cause.ENVIRONMENT),
    ("Rahul Verma", "rahul.explains", "IN", Cause.EDUCATION),
    ("Ananya Iyer", "ananya.period", "IN", Cause.HEALTH),
    ("Hana Sato", "hana.kindness", "JP", Cause.MENTAL_HEALTH),
    ("Dewi Lestari", "dewi.ocean", "ID", Cause.ENVIRONMENT),
    ("Thabo Nkosi", "thabo.township", "ZA", Cause.EDUCATION),
    ("Isabella Rossi", "isa.inclusion", "IT", Cause.EQUALITY),
    ("Lea Müller", "lea.klima", "DE", Cause.ENVIRONMENT),
    ("Camille Laurent", "camille.solidaire", "FR", Cause.POVERTY),
]

# What each demo creator agreed to show the public besides their name and @handle (the
# seeding records it for them, as the system: in a real program only the creator answers).
# Most show everything, a few less; three have not answered, so staff see who has not
# confirmed, and Eli (who signs in) can confirm in her portal and then appear on the list.
CONSENT_FEWER = {
    "wanjiru.reads": [PublicField.COUNTRY, PublicField.CAUSES],
    "nora.learns": [PublicField.CAUSES],
    "mariam.speaks": [PublicField.BIO, PublicField.CAUSES],
    "hana.kindness": [PublicField.COUNTRY, PublicField.CAUSES, PublicField.LINKS],
}
CONSENT_UNANSWERED = {"elivirkina", "amara.sahel", "lea.klima"}

# The first cohort: the four named creators and six from the list.
COHORT_HANDLES = [
    "joelbervell",
    "karaxlewis",
    "dadlifejason",
    "elivirkina",
    "wanjiru.reads",
    "meiling.minds",
    "youssef.science",
    "maria.teaches.ph",
    "chiamaka.codes",
    "sophie.northern",
]

# (legal name, registration number, country, reach, status)
NONPROFITS = [
    ("Open Medicine Foundation International", "INT-10001", "US", "global", "verified"),
    ("Frames of Hope", "US-501-2281", "US", "local", "verified"),
    ("Every Learner Counts", "US-501-3390", "US", "local", "verified"),
    ("Rivers and Roots Trust", "US-501-4471", "US", "local", "verified"),
    ("Readers of Nairobi", "KE-NGO-0192", "KE", "local", "verified"),
    ("Mind Matters Singapore", "SG-CHAR-2044", "SG", "local", "verified"),
    ("Nile Science Clubs", "EG-ASSOC-771", "EG", "local", "verified"),
    ("Classrooms for All Philippines", "PH-SEC-55012", "PH", "local", "verified"),
    ("Code Lagos Initiative", "NG-CAC-88120", "NG", "local", "pending"),
    ("Northern Watersheds Society", "CA-BN-7761", "CA", "local", "verified"),
    ("Global Clean Water Alliance", "INT-10002", "CH", "global", "verified"),
    ("Children's Literacy Worldwide", "INT-10003", "GB", "global", "verified"),
    ("Mental Health Without Borders", "INT-10004", "NL", "global", "verified"),
    ("Planet Reforest", "INT-10005", "DE", "global", "verified"),
    ("Girls in Science Network", "INT-10006", "US", "global", "verified"),
    ("Accessible Futures", "GB-CC-1188", "GB", "local", "verified"),
    ("Sahel Green Belt", "SN-ONG-301", "SN", "local", "verified"),
    ("Favela Futures", "BR-OSC-4410", "BR", "local", "verified"),
    ("Ocean Guardians Indonesia", "ID-YAY-2290", "ID", "local", "verified"),
    ("Township Tutors", "ZA-NPO-7710", "ZA", "local", "verified"),
    ("Saudi Youth Learning Fund", "SA-NCNP-118", "SA", "local", "verified"),
    ("Refugee Welcome Canada", "CA-BN-9902", "CA", "local", "verified"),
    ("Menstrual Health Alliance India", "IN-NGO-6630", "IN", "local", "verified"),
    ("Solidarité Alimentaire", "FR-ASSO-4412", "FR", "local", "verified"),
    ("Mediterranean Sea Watch", "ES-ONG-2217", "ES", "local", "verified"),
    ("Kindness Japan", "JP-NPO-9021", "JP", "local", "pending"),
    ("Kenya Health Volunteers", "KE-NGO-0448", "KE", "local", "verified"),
    ("Manila Reef Rescue", "PH-SEC-60871", "PH", "local", "pending"),
    ("Quick Cash Charity Ltd", "GB-CC-0000", "GB", "local", "rejected"),
    ("World Food Bridges", "INT-10007", "IT", "global", "verified"),
]

# Each cohort creator's nominated nonprofit and the state their $25,000 donation is in.
DONATIONS = [
    # Paid: Joel's public page shows the nonprofit supported in his name, and Open Medicine has
    # a public page (/nonprofits/open-medicine-foundation-international/) it leads to.
    ("joelbervell", "INT-10001", "disbursed"),
    ("karaxlewis", "US-501-2281", "disbursed"),
    ("dadlifejason", "US-501-3390", "approved"),
    ("elivirkina", "US-501-4471", "proposed"),
    ("wanjiru.reads", "KE-NGO-0192", "disbursed"),
    ("meiling.minds", "SG-CHAR-2044", "proposed"),
    ("youssef.science", "EG-ASSOC-771", "cancelled"),
    ("maria.teaches.ph", "PH-SEC-55012", "proposed"),
    ("chiamaka.codes", "NG-CAC-88120", "proposed"),  # its nonprofit still awaits vetting
]

# Program grants, given in the program's name rather than a creator's.
PROGRAM_GRANTS = [
    ("INT-10002", "100000.00", "Clean water programme, year one", "disbursed"),
    ("INT-10003", "75000.00", "Reading kits for 40 schools", "approved"),
    ("INT-10004", "50000.00", "Crisis lines in three languages", "proposed"),
    ("BR-OSC-4410", "20000.00", "After-school coding clubs", "failed"),
    ("ID-YAY-2290", "15000.00", "Reef monitoring boats", "approved"),
    # Paid by bank transfer by hand: scheduled, its transfer waits for finance2@ to record it.
    ("ZA-NPO-7710", "30000.00", "Maths tutoring in three townships", "scheduled"),
]

# Nonprofits no electronic rail reaches, paid by bank transfer made by hand from payment
# instructions: (registration number) -> (account holder, account number or IBAN, BIC,
# bank's country, bank's name). Asked for by the vetter, approved by finance@.
BANK_TRANSFER_NONPROFITS = {
    "ZA-NPO-7710": ("Township Tutors NPC", "62112345678", "FIRNZAJJ", "ZA", "First National Bank"),
}

# Sandbox payout references that make the sandbox provider misbehave for a nonprofit, so the
# demo shows a failed payment and a retried one (see donations/payouts/sandbox.py).
PAYOUT_REFERENCES = {
    "BR-OSC-4410": "sandbox-fail",
    "ID-YAY-2290": "sandbox-flaky",
}

# With the stripe provider (`make run STRIPE=standin`, see the README), seed_demo gives every
# verified demo nonprofit a Stripe connected account as its payee, except these two:
# - Open Medicine sets up payouts itself, through Stripe's hosted onboarding, as its contact
#   (grants@openmedicine.example) would: until then it has no payee, so its donation waits
#   proposed (no grant is approved for a nonprofit that cannot be paid);
STRIPE_SELF_ONBOARDING = ("INT-10001",)
# - Favela Futures is paid to a connected account Stripe does not know (closed): Stripe refuses
#   its transfer and the grant fails, as the sandbox's `sandbox-fail` does.
STRIPE_PAYOUT_REFERENCES = {"BR-OSC-4410": "acct_1DemoClosedAcct00"}

# --- Applications awaiting review --------------------------------------------------------------
# Public applications for "the next cohort that fits" (staff create that cohort, then accept):
# (name, handle, email, country, causes, followers, channel, mission, language).
APPLICATIONS = [
    (
        "Amara Diallo",
        "amara.sahel",
        "amara@example.org",
        "SN",
        ["environment"],
        310_000,
        "https://www.tiktok.com/@amara.sahel",
        "Film one village a month as it plants the Great Green Wall, and get 10,000 viewers "
        "to sponsor a tree.",
        "fr",
    ),
    (
        "Priyanka Rao",
        "priyanka.maths",
        "priyanka@example.org",
        "IN",
        ["education"],
        1_450_000,
        "https://www.youtube.com/@priyanka.maths",
        "Turn the school maths syllabus into five-minute videos in Hindi and English, free "
        "for every government school.",
        "en",
    ),
]

# --- Nonprofit contacts who sign in by emailed link ------------------------------------------
# (registration number, email, name, job title, email language). Readers of Nairobi and
# Frames of Hope have a paid donation to follow and confirm; their contacts have no password.
NONPROFIT_CONTACTS = [
    ("KE-NGO-0192", "amani@readersofnairobi.example", "Amani Wekesa", "Programme director", "en"),
    ("US-501-2281", "lydia@framesofhope.example", "Lydia Brooks", "Executive director", "en"),
    ("INT-10002", "claire@cleanwater.example", "Claire Dubois", "Responsable des dons", "fr"),
]

# The public pages of paid nonprofits: (registration number) -> (causes, "what we do" as its
# contact wrote it, approved by the vetter, or None, and a newer text waiting for review, or
# None). Frames of Hope has both: its approved text stays public while the new one waits.
NONPROFIT_PUBLIC_PAGES = {
    "INT-10001": (
        [Cause.HEALTH, Cause.EDUCATION],
        "Open Medicine Foundation International funds research into chronic illnesses that "
        "medicine has long overlooked, and trains medical students to recognise bias in "
        "diagnosis and treatment.\n\nIts clinics and open courses reach patients and future "
        "doctors in more than thirty countries.",
        None,
    ),
    "US-501-2281": (
        [Cause.ARTS, Cause.EQUALITY],
        "Frames of Hope gives cameras and photography workshops to young people in shelters, "
        "so they can tell their own stories.",
        "Frames of Hope gives cameras, photography workshops and a first exhibition to young "
        "people in shelters across four US cities, so they can tell their own stories.",
    ),
    "KE-NGO-0192": (
        [Cause.EDUCATION],
        "Readers of Nairobi runs reading clubs and lending libraries in forty schools in "
        "Nairobi's informal settlements.",
        None,
    ),
    "INT-10002": (
        [Cause.ENVIRONMENT, Cause.HEALTH],
        None,
        "Global Clean Water Alliance builds and maintains water points with the villages that "
        "use them.",
    ),
}

# A change of payout details that waits for staff review: (registration number, new reference).
PAYOUT_CHANGE = ("US-501-2281", "acct-framesofhope-new-0042")

# --- Issue 5: the text of the public program page (the "social impact hub") --------------------
PROGRAM_HUB = {
    "title": "Change Makers: the social impact hub",
    "hashtag": "#ChangeMakersForGood",
    "introduction": (
        "Creators who use their voice for education, health, the environment and more, and "
        "the nonprofits they give to."
    ),
    "body": (
        "Change Makers supports creators in six-month cohorts of ten. Each creator works on "
        "their own mission with the program's team, and names a nonprofit that receives a "
        "$25,000 donation in their name.\n\n"
        "Every year the program publishes the global Change Makers list: fifty creators from "
        "Kenya, Singapore, Saudi Arabia, Egypt, the United Kingdom, the Philippines, Spain, "
        "Nigeria, Canada and many more countries.\n\n"
        "Share what you learn from them with #ChangeMakersForGood."
    ),
}

PROGRAM_HUB_TRANSLATIONS = {
    "title_fr": "Change Makers : le pôle d'impact social",
    "introduction_fr": (
        "Des créateurs qui prêtent leur voix à l'éducation, à la santé, à l'environnement et "
        "plus encore, et les associations qu'ils soutiennent."
    ),
    "title_es": "Change Makers: el centro de impacto social",
    "introduction_es": (
        "Creadores que usan su voz para la educación, la salud, el medio ambiente y más, y "
        "las organizaciones a las que apoyan."
    ),
    "title_ar": "صنّاع التغيير: مركز الأثر الاجتماعي",
    "introduction_ar": (
        "صنّاع محتوى يسخّرون أصواتهم للتعليم والصحة والبيئة وغيرها، والجمعيات التي يدعمونها."
    ),
}

# --- Part 7 of "Work that flows": staff-written texts in every language ------------------------
# The 2026 list's introduction and a few citations in French, Spanish and Arabic; the other
# citations are English only, so a French reader sees them marked as English. (The cohort's
# milestone plan is the program's usual one: its titles come in every language.)
LIST_2026_TRANSLATIONS = {
    "introduction_fr": (
        "Cinquante créateurs du monde entier qui utilisent leurs plateformes pour faire la "
        "différence dans l'éducation, la santé, l'environnement et bien plus."
    ),
    "introduction_es": (
        "Cincuenta creadores de todo el mundo que usan sus plataformas para marcar la "
        "diferencia en la educación, la salud, el medio ambiente y mucho más."
    ),
    "introduction_ar": (
        "خمسون صانع محتوى من أنحاء العالم يستخدمون منصاتهم لإحداث فرق في التعليم والصحة "
        "والبيئة وغيرها."
    ),
}
CITATION_TRANSLATIONS = {
    Cause.EDUCATION: {
        "citation_fr": "Transforme les leçons en vidéos que des millions regardent jusqu'au bout.",
        "citation_es": "Convierte las lecciones en vídeos que millones ven hasta el final.",
        "citation_ar": "يحوّل الدروس إلى مقاطع يشاهدها الملايين حتى النهاية.",
    },
    Cause.HEALTH: {
        "citation_fr": "Apporte des conseils de santé fiables dans chaque fil d'actualité.",
        "citation_es": "Lleva consejos de salud fiables a cada feed.",
        "citation_ar": "يوصل نصائح صحية موثوقة إلى كل صفحة.",
    },
    Cause.ENVIRONMENT: {
        "citation_fr": "Fait de la protection de la planète quelque chose que l'on partage.",
        "citation_es": "Hace del cuidado del planeta algo que se comparte.",
    },
}


# --- Two-factor sign-in for the demo staff (development only) ---------------------------------
# Every demo staff account's authenticator app shares this one secret, RFC 6238's published
# test key: `oathtool --totp -b GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ` (or any authenticator app
# given the secret) shows the code. seed_demo adds it only when DEBUG is on; a deployment's
# staff set up their own app at their first sign-in.
DEMO_STAFF_LOGINS = [
    "staff@changemakers.example",
    "finance@changemakers.example",
    "finance2@changemakers.example",
    "vetter@changemakers.example",
    "auditor@changemakers.example",
]
DEMO_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # nosec B105 # public development-only key


def demo_second_factors(users) -> list[str]:
    """Give each of `users` that has none an authenticator app with DEMO_TOTP_SECRET (audited
    like any other, as added by the system). Returns the usernames given one."""
    from base64 import b32decode

    from django_otp.oath import totp

    from changemakers.core.twofactor import services

    key = b32decode(DEMO_TOTP_SECRET)
    given = []
    for user in users:
        if services.totp_devices(user):
            continue
        services.totp_device_add(user=user, key=key.hex(), code=f"{totp(key):06d}", actor=None)
        given.append(user.username)
    return given


# The program's impact indicators: (name, unit, aggregation, whole numbers, help for creators).
IMPACT_INDICATORS = [
    ("Views", "views", "sum", True, "Views of your program videos since your last milestone."),
    ("People reached", "people", "max", True, "Everyone your work has reached so far, in all."),
    (
        "Donations raised",
        "USD",
        "sum",
        False,
        "What your audience gave your nonprofit since your last milestone.",
    ),
    (
        "Volunteers signed up",
        "volunteers",
        "sum",
        True,
        "People who signed up to help since your last milestone.",
    ),
]

# The cohort's first six creators post a TikTok video with their month-2 update. Its preview
# (what TikTok's oEmbed endpoint answered: title, author) is stored with the seed, and its
# thumbnail drawn by the seed, so the demo never needs the internet.
DEMO_VIDEO_TITLES = [
    "Three medical myths that still shape how patients are treated #health #changemakers",
    "Portraits of the people who keep our city running #photography #changemakers",
    "What a good day in a special education classroom looks like #teachersoftiktok",
    "Why your compost bin is a climate tool #environment #changemakers",
    "Reading hour in Kibera: 40 kids, 200 books #education #changemakers",
    "Planting 500 mangroves with our volunteers #environment #changemakers",
]
DEMO_VIDEO_COLOURS = [
    (11, 93, 91),
    (120, 60, 140),
    (200, 120, 40),
    (40, 120, 60),
    (30, 80, 160),
    (160, 40, 60),
]
DEMO_VIDEO_FIRST_ID = 7_412_000_000_000_000_001

# The missions the cohort's named creators enrolled with (the others': their bio).
MISSIONS = {
    "joelbervell": (
        "Debunk one medical myth a week, and show future doctors and their patients the racial "
        "bias hidden in everyday medicine."
    ),
}

# Month-2 updates the creator asked to show on their public page and staff approved as a
# public highlight, with the public summary staff wrote in each language: handle -> summary.
HIGHLIGHT_SUMMARIES = {
    "joelbervell": {
        "en": (
            "Three videos on medical myths reached 1.45 million viewers, and 40 medical students "
            "signed up to check the next ones."
        ),
        "fr": (
            "Trois vidéos sur des idées reçues en médecine ont touché 1,45 million de personnes, "
            "et 40 étudiants en médecine se sont engagés à vérifier les suivantes."
        ),
        "es": (
            "Tres vídeos sobre mitos médicos llegaron a 1,45 millones de personas, y 40 "
            "estudiantes de medicina se apuntaron para revisar los siguientes."
        ),
        "ar": (
            "وصلت ثلاثة مقاطع عن خرافات طبية إلى 1.45 مليون مشاهد، وتطوّع 40 طالب طب لمراجعة "
            "المقاطع التالية."
        ),
    },
}

# --- Opportunities the program offers (the social impact hub, part 3) ---------------------------
# Published when the demo is seeded, dated from that day (days ahead, hour in program time), so
# there is always something to sign up to: one for creators, one for both, one nearly full
# (its first places taken by the handles in "taken", so joel@ can take the last one).
OPPORTUNITIES = [
    {
        "title": {
            "en": "Filming on a phone: a masterclass",
            "fr": "Filmer avec un téléphone : une masterclass",
            "es": "Grabar con el móvil: una clase magistral",
            "ar": "التصوير بالهاتف: درس متقدم",
        },
        "description": {
            "en": "Light, sound and editing for videos that carry a cause, with a "
            "documentary camera operator. Bring your phone.",
            "fr": "Lumière, son et montage pour des vidéos qui portent une cause, avec un "
            "cadreur de documentaires. Apportez votre téléphone.",
            "es": "Luz, sonido y edición para vídeos que llevan una causa, con un camarógrafo "
            "de documentales. Trae tu móvil.",
            "ar": "الإضاءة والصوت والمونتاج لمقاطع تحمل قضية، مع مصور أفلام وثائقية. أحضر هاتفك.",
        },
        "kind": "training",
        "audience": "creators",
        "days_ahead": 14,
        "hour": 15,
        "place": "Nairobi Creative Hub, Studio 2",
        "link": "https://meet.changemakers.example/masterclass",
        "capacity": 25,
        "taken": [],
    },
    {
        "title": {
            "en": "Creators meet nonprofits: collaboration day",
            "fr": "Créateurs et associations : journée de collaboration",
            "es": "Creadores y ONG: jornada de colaboración",
            "ar": "لقاء صناع المحتوى والمنظمات غير الربحية: يوم التعاون",
        },
        "description": {
            "en": "Nonprofits present what they need told; creators pitch how they would tell "
            "it. Pairs leave with a first video planned together.",
            "fr": "Les associations présentent ce qu'elles veulent faire connaître ; les "
            "créateurs proposent comment le raconter. Chaque binôme repart avec une vidéo "
            "prévue ensemble.",
            "es": "Las ONG presentan lo que necesitan contar; los creadores proponen cómo "
            "contarlo. Cada pareja sale con un primer vídeo planeado juntos.",
            "ar": "تعرض المنظمات ما تحتاج إلى إيصاله، ويقترح صناع المحتوى طريقة روايته. يغادر كل "
            "ثنائي بخطة لأول مقطع مشترك.",
        },
        "kind": "collaboration",
        "audience": "both",
        "days_ahead": 21,
        "hour": 13,
        "place": "",
        "link": "https://meet.changemakers.example/collaboration-day",
        "capacity": 40,
        "taken": ["karaxlewis"],
    },
    {
        "title": {
            "en": "One-to-one mentoring with a documentary producer",
            "fr": "Mentorat individuel avec une productrice de documentaires",
            "es": "Mentoría individual con una productora de documentales",
            "ar": "إرشاد فردي مع منتجة أفلام وثائقية",
        },
        "description": {
            "en": "Thirty minutes on your next series: its story, its audience, its partners.",
            "fr": "Trente minutes sur votre prochaine série : son histoire, son public, ses "
            "partenaires.",
            "es": "Treinta minutos sobre tu próxima serie: su historia, su público, sus socios.",
            "ar": "ثلاثون دقيقة حول سلسلتك القادمة: قصتها وجمهورها وشركاؤها.",
        },
        "kind": "mentoring",
        "audience": "creators",
        "days_ahead": 10,
        "hour": 16,
        "place": "",
        "link": "https://meet.changemakers.example/mentoring",
        "capacity": 3,
        "taken": ["karaxlewis", "dadlifejason"],
    },
]
