"""The demo company: a small multinational with offices in Sofia, London, Shanghai and Ho Chi Minh
City, its people, and 90 days of requests with their whole history.

How the history is written. People and departments are created as the services create them. The
90 days of work — tasks, the audit trail, comments and watchers — are written as the rows the task
services write (same event kinds, same ``{field: [old, new]}`` changes, versions counted the same
way), with timestamps in the past: filed during office hours, worked in working time of the
department's calendar, resolved, closed, sometimes reopened or handed over. Nothing is emitted to
the outbox: replaying three months of events would notify, mail and call webhooks about work long
done. The story of each task is generated from a seeded random generator and ``now``, so the same
seed and the same ``now`` give the same company.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from .auth import hash_password, normalise_email
from .db import insert_rows, utcnow, write_transaction
from .errors import WorkdeskError
from .models import (Calendar, Comment, Department, Holiday, Membership, Role, Sequence, Task, TaskEvent,
                     TaskWatcher, User)
from .services import users as user_service
from .services.calendars import WorkingTime

PASSWORD = "workdesk-demo"
# Where requesters (who belong to no department) file with quick create; `workdesk init --demo`
# writes it as the instance's intake_department setting. It is also the oldest top-level department,
# the intake when the setting is absent.
INTAKE_DEPARTMENT = "Front Desk"
HISTORY_DAYS = 90

SOFIA_HOURS = {d: [["08:30", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}
SAIGON_HOURS = {**{d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}, "sat": [["08:00", "12:00"]]}
# Public holidays (month, day) of each office's calendar, entered for this year and the last.
BULGARIAN_HOLIDAYS = [(1, 1), (3, 3), (5, 1), (5, 6), (5, 24), (9, 6), (9, 22), (12, 24), (12, 25), (12, 26)]
VIETNAMESE_HOLIDAYS = [(1, 1), (4, 30), (5, 1), (9, 2)]

# name -> (calendar, share of the requests)
DEPARTMENTS = {
    "Front Desk": ("sofia", 12),
    "IT Support": ("sofia", 30),
    "Facilities": ("sofia", 18),
    "Finance": ("sofia", 13),
    "Customer Care": ("saigon", 16),
    "People & HR": ("sofia", 11),
}


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str
    department: str | None  # None: a requester from the rest of the company, filing into the intake
    timezone: str
    languages: str  # "bg en ru": the languages they read, the first the one they write in
    skills: tuple[str, ...] = ()

    @property
    def reads(self) -> list[str]:
        return self.languages.split()

    @property
    def writes(self) -> str:
        return self.reads[0]

    @property
    def locale(self) -> str:
        return "bg" if self.writes == "bg" else "en"  # of the languages Workdesk speaks


SOFIA, LONDON, SHANGHAI, SAIGON = "Europe/Sofia", "Europe/London", "Asia/Shanghai", "Asia/Ho_Chi_Minh"
PEOPLE = [
    Person("Елена Димитрова", "elena.dimitrova", "manager", "Front Desk", SOFIA, "bg en ru", ("reception", "travel")),
    Person("Ivan Kolev", "ivan.kolev", "agent", "Front Desk", SOFIA, "bg en", ("mail", "visitors")),
    Person("Ольга Смирнова", "olga.smirnova", "agent", "Front Desk", SOFIA, "ru bg en", ("travel", "supplies")),
    Person("Georgi Petrov", "georgi.petrov", "manager", "IT Support", SOFIA, "bg en ru", ("networks", "accounts")),
    Person("Дмитрий Волков", "dmitry.volkov", "agent", "IT Support", SOFIA, "ru en bg", ("windows", "printers")),
    Person("Trần Minh Đức", "duc.tran", "agent", "IT Support", SAIGON, "vi en", ("windows", "networks")),
    Person("陈静", "jing.chen", "agent", "IT Support", SHANGHAI, "zh en", ("accounts", "software")),
    Person("Tom Harris", "tom.harris", "reviewer", "IT Support", LONDON, "en", ("security",)),
    Person("Стефан Николов", "stefan.nikolov", "manager", "Facilities", SOFIA, "bg ru en", ("building",)),
    Person("Nikolai Popov", "nikolai.popov", "agent", "Facilities", SOFIA, "ru bg en", ("plumbing", "electrics")),
    Person("Phạm Văn Hùng", "hung.pham", "agent", "Facilities", SAIGON, "vi en", ("air conditioning",)),
    Person("Zhang Wei", "wei.zhang", "agent", "Facilities", SHANGHAI, "zh en", ("building", "av equipment")),
    Person("Sarah Mitchell", "sarah.mitchell", "manager", "Finance", LONDON, "en", ("controlling",)),
    Person("Анна Кузнецова", "anna.kuznetsova", "agent", "Finance", SOFIA, "ru bg en", ("payables",)),
    Person("李娜", "na.li", "agent", "Finance", SHANGHAI, "zh en", ("expenses", "payables")),
    Person("Мирослава Стоянова", "miroslava.stoyanova", "reviewer", "Finance", SOFIA, "bg en", ("audit",)),
    Person("Hoàng Thu Trang", "trang.hoang", "manager", "Customer Care", SAIGON, "vi en", ("escalations",)),
    Person("James O'Connor", "james.oconnor", "agent", "Customer Care", LONDON, "en", ("refunds",)),
    Person("Десислава Маринова", "desislava.marinova", "agent", "Customer Care", SOFIA, "bg en ru", ("orders",)),
    Person("Wang Fang", "fang.wang", "agent", "Customer Care", SHANGHAI, "zh en", ("orders", "quality")),
    Person("Алексей Морозов", "alexey.morozov", "agent", "Customer Care", SOFIA, "ru en", ("accounts",)),
    Person("Виктория Георгиева", "viktoria.georgieva", "manager", "People & HR", SOFIA, "bg en ru", ("payroll",)),
    Person("Emily Clarke", "emily.clarke", "agent", "People & HR", LONDON, "en", ("onboarding",)),
    Person("Lê Quốc Bảo", "bao.le", "reviewer", "People & HR", SAIGON, "vi en", ("benefits",)),
    Person("Радостина Илиева", "radostina.ilieva", "requester", None, SOFIA, "bg en"),
    Person("Mark Thompson", "mark.thompson", "requester", None, LONDON, "en"),
    Person("黄磊", "lei.huang", "requester", None, SHANGHAI, "zh en"),
    Person("Võ Thị Mai", "mai.vo", "requester", None, SAIGON, "vi en"),
    Person("Сергей Лебедев", "sergey.lebedev", "requester", None, SOFIA, "ru bg en"),
    Person("Petar Angelov", "petar.angelov", "requester", None, SOFIA, "bg"),
    Person("Chloe Bennett", "chloe.bennett", "requester", None, LONDON, "en"),
    Person("Đặng Văn Nam", "nam.dang", "requester", None, SAIGON, "vi en"),
    Person("Kristina Vasileva", "kristina.vasileva", "requester", None, SOFIA, "bg en"),
    Person("赵敏", "min.zhao", "requester", None, SHANGHAI, "zh en"),
]

# What people ask each department for, in the language they write in. ``{…}`` parts are filled from
# FILLERS of the same language.
REQUESTS: dict[str, list[tuple[str, str, str]]] = {
    "IT Support": [
        ("en", "Laptop won't boot after the Windows update",
         "Since this morning's update my laptop ({asset}) shows a blue screen and restarts. I have a client call "
         "at 2 pm."),
        ("en", "VPN keeps disconnecting when working from home",
         "The VPN drops every 20–30 minutes and I have to log in again each time. My home internet is fine otherwise."),
        ("en", "New starter: accounts and laptop for {newhire}",
         "{newhire} joins on Monday. Please set up email, VPN access and a laptop with the standard image."),
        ("bg", "Не мога да печатам на принтера на 3-ти етаж",
         "Принтерът на третия етаж показва „офлайн“ от вчера. Рестартирах компютъра, но не помогна."),
        ("bg", "Outlook не синхронизира пощата",
         "От сутринта Outlook стои на „Опит за свързване…“ и не получавам нови писма. Уеб пощата работи."),
        ("ru", "Не работает второй монитор",
         "После переезда на новое место второй монитор не определяется. Кабель DisplayPort проверил, он целый."),
        ("ru", "Нужен доступ к общей папке «Финансы»",
         "Прошу дать доступ на чтение к папке с квартальными отчётами, нужно для подготовки сверки."),
        ("zh", "无法连接公司Wi-Fi", "我的笔记本电脑（{asset}）今天早上开始连不上公司Wi-Fi，手机可以正常连接。"),
        ("zh", "申请安装 Adobe Acrobat", "需要编辑客户发来的PDF合同，请帮我安装 Adobe Acrobat Pro。"),
        ("vi", "Máy tính chạy rất chậm",
         "Máy tính của mình ({asset}) mấy hôm nay chạy rất chậm, mở Excel cũng mất vài phút."),
        ("vi", "Tài khoản email bị khóa",
         "Mình bị khóa tài khoản email sau khi nhập sai mật khẩu nhiều lần. Nhờ anh chị mở khóa giúp."),
    ],
    "Facilities": [
        ("en", "Air conditioning too cold in meeting room Vitosha",
         "It's around 17 °C in Vitosha and people bring jackets to meetings. Could the setting be checked?"),
        ("en", "Broken chair at desk {desk}",
         "The gas lift of the chair at desk {desk} is broken: it sinks to the lowest position within minutes."),
        ("bg", "Тече кранчето в кухнята на 2-ри етаж",
         "Кранът на мивката в кухнята на втория етаж капе непрекъснато, под мивката има вода."),
        ("bg", "Не светят лампите в коридора до асансьора",
         "Две от лампите в коридора до асансьора на 4-ти етаж не светят от няколко дни."),
        ("ru", "Заедает замок на двери склада",
         "Замок на двери склада №2 заедает, ключ проворачивается с трудом. Боюсь, что скоро совсем не откроется."),
        ("ru", "Проверка огнетушителей",
         "Напоминаю: до конца месяца нужно проверить огнетушители на всех этажах и обновить журнал."),
        ("zh", "会议室投影仪坏了", "3号会议室的投影仪开机后没有画面，下午有客户来访，请尽快处理。"),
        ("vi", "Điều hòa phòng họp tầng 5 không mát",
         "Điều hòa phòng họp tầng 5 văn phòng TP.HCM vẫn chạy nhưng không mát, trong phòng khoảng 30 độ."),
        ("vi", "Cần thêm tủ hồ sơ cho phòng kế toán",
         "Phòng kế toán cần thêm một tủ hồ sơ có khóa để lưu chứng từ năm nay."),
    ],
    "Front Desk": [
        ("en", "Book a meeting room for the Shanghai visitors",
         "Three colleagues from Shanghai visit Sofia from Tuesday to Thursday next week. Please book Rila for all "
         "three days and prepare visitor badges."),
        ("en", "Courier pickup for signed contracts",
         "The signed contracts for {customer} must go out by courier today; the envelope is at reception."),
        ("bg", "Поръчка на канцеларски материали",
         "Свършиха химикалките, тетрадките и тонерът за малкия принтер в отдел „Продажби“."),
        ("bg", "Паркомясто за гост в петък",
         "В петък от 10:00 ще ни посети представител на {customer}. Моля, запазете паркомясто пред офиса."),
        ("ru", "Забронировать гостиницу для командировки",
         "Нужен номер в гостинице рядом с офисом в Софии с понедельника по четверг для коллеги из Шанхая."),
        ("zh", "预订去索菲亚的机票", "下个月中旬我要去索菲亚总部参加一周培训，请帮忙预订往返机票。"),
        ("vi", "Đặt xe đón khách ở sân bay",
         "Thứ Năm tuần này có đối tác từ Singapore sang, nhờ đặt xe đón ở sân bay Tân Sơn Nhất lúc 14:30."),
    ],
    "Finance": [
        ("en", "Approve invoice {invoice} from {supplier}",
         "Invoice {invoice} for {amount} EUR is waiting for approval; the goods arrived last week."),
        ("en", "Expense claim for the Hamburg trade fair",
         "Receipts for train, hotel and meals are attached, {amount} EUR in total."),
        ("bg", "Корекция във фактура {invoice}",
         "В издадената фактура {invoice} към {customer} е сгрешен ЕИК. Моля, издайте кредитно известие и нова "
         "фактура."),
        ("bg", "Аванс за командировка до Виена",
         "Моля за аванс от {amount} евро за командировката до Виена следващата седмица."),
        ("ru", "Сверка с поставщиком {supplier}",
         "{supplier} прислал акт сверки за прошлый квартал, есть расхождение в {amount} евро. Прошу проверить."),
        ("zh", "报销出差费用", "上周去深圳出差的机票和酒店发票已经提交，共 {amount} 元，请帮忙审核报销。"),
        ("vi", "Thanh toán hóa đơn tiền điện",
         "Hóa đơn tiền điện văn phòng TP.HCM tháng này đến hạn vào ngày 25, số tiền {amount}.000 VND."),
    ],
    "Customer Care": [
        ("en", "{customer} asks for a refund on order {order}",
         "The customer received a damaged unit and wants a refund instead of a replacement. Photos are in the "
         "email thread."),
        ("en", "Late delivery complaint from {customer}",
         "Order {order} was promised for last Friday and has not arrived. The customer is considering cancelling."),
        ("bg", "Клиент иска промяна на адреса за доставка",
         "{customer} се премести на бул. „България“ 58, София. Моля, обновете адреса по поръчка {order}."),
        ("ru", "Клиент не может войти в личный кабинет",
         "Клиент {customer} пишет, что после сброса пароля не приходит письмо с подтверждением."),
        ("zh", "客户投诉包装破损", "客户{customer}反映订单{order}有三箱包装破损，要求补发。"),
        ("vi", "Khách hàng yêu cầu xuất hóa đơn VAT",
         "Khách hàng {customer} cần hóa đơn VAT cho đơn hàng {order}, thông tin công ty đã gửi qua email."),
        ("vi", "Khách hàng hỏi về thời gian giao hàng",
         "{customer} hỏi khi nào đơn hàng {order} được giao, họ cần hàng trước cuối tuần."),
    ],
    "People & HR": [
        ("en", "Onboarding checklist for {newhire}",
         "Please prepare the contract, the welcome pack and the first-week schedule for {newhire}, who starts on "
         "the 1st."),
        ("en", "Update my bank details for payroll",
         "I have changed banks; the new IBAN is in the attached form. Please use it from next month's salary."),
        ("bg", "Служебна бележка за доход",
         "Моля за служебна бележка за доходите ми за последните шест месеца — нужна ми е за банката."),
        ("bg", "Грешно отчетен отпуск",
         "В системата ми е отчетен един ден отпуск повече за миналия месец. Моля, проверете."),
        ("ru", "Справка с места работы",
         "Прошу подготовить справку с места работы для посольства, нужна для визы."),
        ("zh", "申请年假", "我想申请下个月10日到14日的年假，工作已经和同事交接好了。"),
        ("vi", "Bổ sung người thân vào bảo hiểm",
         "Mình vừa có em bé, muốn bổ sung bé vào gói bảo hiểm sức khỏe của công ty."),
    ],
}

FILLERS: dict[str, dict[str, list[str]]] = {
    "en": {"customer": ["Northwind Traders", "Bluebell Foods", "Harbour Logistics", "Kestrel Retail"],
           "supplier": ["Office Depot", "Atlas Packaging", "Brightline Energy"],
           "newhire": ["Oliver Grant", "Amelia Shaw", "Daniel Reyes", "Нели Христова"]},
    "bg": {"customer": ["„Родопа Трейд“ ООД", "„Витоша Фуудс“ АД", "„Балкан Логистик“ ЕООД"],
           "supplier": ["„Офис 1“", "„Еконт“"], "newhire": ["Нели Христова"]},
    "ru": {"customer": ["ООО «Северный ветер»", "Ирина Соколова", "ООО «Гранит»"],
           "supplier": ["ООО «ПромТара»", "АО «Логистик-Сервис»"], "newhire": ["Мария Орлова"]},
    "zh": {"customer": ["华盛贸易", "东方物流", "刘先生"], "supplier": ["上海新达包装"], "newhire": ["周杰"]},
    "vi": {"customer": ["Công ty Minh Phát", "Chị Ngọc Anh", "Công ty Sao Việt"], "supplier": ["Điện lực TP.HCM"],
           "newhire": ["Phan Thanh Tùng"]},
}

# What people write on a task, per language; ``{name}`` is a colleague's name.
REPLIES: dict[str, dict[str, list[str]]] = {
    "take": {"en": ["On it — I'll look at this today.", "Picked this up, will update you shortly."],
             "bg": ["Поемам го, ще погледна днес.", "Заемам се, ще пиша, щом имам новини."],
             "ru": ["Взял в работу, посмотрю сегодня.", "Занимаюсь, отпишусь по результату."],
             "zh": ["收到，我今天处理。", "我来跟进，有进展会通知你。"],
             "vi": ["Đã nhận, mình sẽ xử lý trong hôm nay.", "Mình nhận việc này nhé, có tin sẽ báo lại."]},
    "question": {"en": ["Could you send a photo or a screenshot?", "Since when exactly, and does it happen every day?"],
                 "bg": ["Може ли снимка или екранна снимка?", "От кога точно се случва?"],
                 "ru": ["Пришлите, пожалуйста, скриншот или фото.", "С какого времени это происходит?"],
                 "zh": ["能发一张截图或照片吗？", "大概从什么时候开始的？"],
                 "vi": ["Bạn gửi giúp mình ảnh chụp màn hình nhé?", "Tình trạng này bắt đầu từ khi nào vậy?"]},
    "answer": {"en": ["Sent it by email just now.", "Since Monday morning, every day."],
               "bg": ["Изпратих я по имейл.", "От понеделник сутринта, всеки ден."],
               "ru": ["Отправил на почту.", "С понедельника, каждый день."],
               "zh": ["已经发到你邮箱了。", "从周一早上开始，每天都这样。"],
               "vi": ["Mình vừa gửi qua email rồi.", "Từ sáng thứ Hai đến giờ, ngày nào cũng bị."]},
    "waiting": {"en": ["Waiting for the supplier to confirm a date.",
                       "Ordered the part; delivery in 2–3 working days."],
                "bg": ["Чакам потвърждение от доставчика.", "Поръчах частта, доставка до 2–3 работни дни."],
                "ru": ["Ждём ответа от поставщика.", "Заказали запчасть, доставка 2–3 рабочих дня."],
                "zh": ["在等供应商确认时间。", "配件已经下单，预计两三个工作日到货。"],
                "vi": ["Đang chờ nhà cung cấp xác nhận.", "Đã đặt linh kiện, dự kiến 2–3 ngày làm việc."]},
    "resolved": {"en": ["Done — please check and tell me if anything is still off.",
                        "Fixed. Let me know if it comes back."],
                 "bg": ["Готово — проверете, моля.", "Оправено е, пишете, ако пак се появи."],
                 "ru": ["Готово, проверьте, пожалуйста.", "Исправлено. Если повторится — напишите."],
                 "zh": ["已处理好，请确认一下。", "问题已解决，如有问题请再联系。"],
                 "vi": ["Xong rồi, bạn kiểm tra lại giúp mình nhé.", "Đã xử lý xong, có vấn đề gì cứ báo lại."]},
    "reopen": {"en": ["It happened again this morning, sorry.", "Still not working for me."],
               "bg": ["Пак се случи тази сутрин.", "При мен все още не работи."],
               "ru": ["Сегодня утром опять повторилось.", "У меня всё ещё не работает."],
               "zh": ["今天早上又出现了。", "我这边还是不行。"],
               "vi": ["Sáng nay lại bị nữa rồi.", "Bên mình vẫn chưa được."]},
    "handover": {"en": ["Handing this over to {name}, who knows this best.", "{name} will take it from here."],
                 "bg": ["Предавам на {name}, по-запознат(а) е с това.", "Оттук нататък поема {name}."],
                 "ru": ["Передаю задачу: {name} разберётся лучше.", "Дальше этим займётся {name}."],
                 "zh": ["转给{name}处理。", "这个由{name}接手。"],
                 "vi": ["Mình chuyển cho {name} xử lý nhé.", "Việc này {name} sẽ tiếp nhận."]},
    "thanks": {"en": ["Works now, thank you!", "Perfect, thanks."],
               "bg": ["Вече работи, благодаря!", "Супер, благодаря."],
               "ru": ["Теперь работает, спасибо!", "Отлично, спасибо."],
               "zh": ["现在好了，谢谢！", "好的，谢谢。"],
               "vi": ["Giờ ổn rồi, cảm ơn nhé!", "Tuyệt, cảm ơn bạn."]},
}

# Working hours from filing to the due date, by priority (the departments' service levels).
SERVICE_HOURS = {"urgent": 4, "high": 9, "normal": 27, "low": 45}
PRIORITY_WEIGHTS = {"low": 15, "normal": 55, "high": 22, "urgent": 8}


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat() if value is not None else None


@dataclass
class Story:
    """One task's life as the services would have recorded it: the task row, its trail and comments."""
    task: Task
    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[tuple[dt.datetime, User, str]] = field(default_factory=list)
    watchers: list[tuple[dt.datetime, User]] = field(default_factory=list)

    def update(self, at: dt.datetime, actor: User, changes: dict[str, list]) -> None:
        """An ``updated`` entry: what update_task records, with the version step it makes."""
        self.events.append({"at": at, "actor": actor, "kind": "updated", "changes": changes})
        self.task.version += 1
        self.task.updated_at = at

    def assign(self, at: dt.datetime, actor: User, assignee: User) -> None:
        self.update(at, actor, {"assignee_id": [self.task.assignee_id, assignee.id]})
        self.task.assignee = assignee

    def move(self, at: dt.datetime, actor: User, status: str) -> None:
        """A status change with the timestamps ``_apply_status`` keeps."""
        task, old = self.task, self.task.status
        changes: dict[str, list] = {"status": [old, status]}
        if status == "resolved":
            changes["resolved_at"] = [_iso(task.resolved_at), _iso(at)]
            task.resolved_at = at
        elif status == "closed":
            changes["closed_at"] = [_iso(task.closed_at), _iso(at)]
            task.closed_at = at
            task.resolved_at = task.resolved_at or at
        elif status == "open" and old in ("resolved", "closed"):
            changes["resolved_at"] = [_iso(task.resolved_at), None]
            task.resolved_at = task.closed_at = None
        task.status = status
        self.update(at, actor, changes)

    def comment(self, at: dt.datetime, author: User, body: str) -> None:
        self.comments.append((at, author, body))
        self.task.updated_at = at  # add_comment touches the task, not its version

    def watch(self, at: dt.datetime, user: User) -> None:
        self.watchers.append((at, user))


class Company:
    """The demo company being written: its people, calendars and the random source of every choice."""

    def __init__(self, rng: random.Random, now: dt.datetime):
        self.rng = rng
        self.now = now
        self.people: dict[str, tuple[Person, User]] = {}
        self.departments: dict[str, Department] = {}
        self.calendars: dict[str, WorkingTime] = {}

    # -- who ------------------------------------------------------------------------------------

    def staff(self, department: str, roles: tuple[str, ...] = ("manager", "agent")) -> list[tuple[Person, User]]:
        return [(p, u) for p, u in self.people.values() if p.department == department and p.role in roles]

    def head(self, department: str) -> tuple[Person, User]:
        return self.staff(department, ("manager",))[0]

    def worker_for(self, department: str, language: str, besides: User | None = None) -> tuple[Person, User]:
        """Someone to work a request: preferably one who reads its language."""
        candidates = [(p, u) for p, u in self.staff(department) if besides is None or u.id != besides.id]
        fluent = [pu for pu in candidates if language in pu[0].reads]
        return self.rng.choice(fluent if fluent and self.rng.random() < 0.85 else candidates)

    def reporter_for(self, department: str, language: str) -> tuple[Person, User]:
        """Who files a request in ``language``: mostly the rest of the company, sometimes a colleague."""
        writers = [(p, u) for p, u in self.people.values() if p.writes == language and p.department != department]
        requesters = [pu for pu in writers if pu[0].role == "requester"]
        return self.rng.choice(requesters if requesters and self.rng.random() < 0.6 else writers)

    def reply(self, kind: str, language: str, writer: Person, **names: str) -> str:
        """A comment of ``kind`` in the task's language when the writer reads it, else in English."""
        lang = language if language in writer.reads else "en"
        return self.rng.choice(REPLIES[kind][lang]).format(**names)

    # -- when -----------------------------------------------------------------------------------

    def later(self, department: str, start: dt.datetime, low: float, high: float) -> dt.datetime:
        """``start`` plus between ``low`` and ``high`` working hours of the department, to the minute."""
        at = self.calendars[department].add_working_hours(start, self.rng.uniform(low, high))
        return at.replace(second=0, microsecond=0)


def load_demo(task_count: int = 300, seed: int = 7, now: dt.datetime | None = None) -> dict[str, int]:
    """Create the demo company and ``task_count`` requests filed over the last 90 days (as of ``now``)."""
    if Department.select().where(Department.name == INTAKE_DEPARTMENT).exists():
        raise WorkdeskError(f"The demo company is already loaded (there is a department named {INTAKE_DEPARTMENT}).")
    now = (now or utcnow()).astimezone(dt.timezone.utc).replace(second=0, microsecond=0)
    company = Company(random.Random(seed), now)
    with write_transaction():
        _people_and_departments(company)
        stories = [_story(company) for _ in range(task_count)]
        _write(stories)
    return {"departments": len(company.departments), "people": len(company.people), "tasks": len(stories),
            "comments": sum(len(s.comments) for s in stories),
            "history entries": sum(len(s.events) + len(s.comments) + len(s.watchers) + 1 for s in stories)}


def _people_and_departments(company: Company) -> None:
    calendars = {}
    for key, name, zone, hours, holidays in (
            ("sofia", "Office hours (Sofia)", SOFIA, SOFIA_HOURS, BULGARIAN_HOLIDAYS),
            ("saigon", "Customer Care hours (Ho Chi Minh City)", SAIGON, SAIGON_HOURS, VIETNAMESE_HOLIDAYS)):
        calendar, _ = Calendar.get_or_create(name=name, defaults={"timezone": zone, "weekly_hours": hours})
        for year in (company.now.year - 1, company.now.year):
            for month, day in holidays:
                Holiday.get_or_create(calendar=calendar, date=dt.date(year, month, day))
        calendars[key] = calendar
    for name, (calendar_key, _share) in DEPARTMENTS.items():
        department = user_service.create_department(None, name=name, calendar_id=calendars[calendar_key].id)
        company.departments[name] = department
        company.calendars[name] = WorkingTime.of(calendars[calendar_key])
    # The rows create_user writes, with the one password every demo person shares hashed once.
    password_hash = hash_password(PASSWORD)
    roles = {role.name: role for role in Role.select()}
    for person in PEOPLE:
        user = User.create(email=normalise_email(f"{person.email}@example.com"), name=person.name,
                           password_hash=password_hash, role=roles[person.role], timezone=person.timezone,
                           skills=list(person.skills), locale=person.locale,
                           created_at=company.now - dt.timedelta(days=HISTORY_DAYS + 30))
        if person.department is not None:
            Membership.create(user=user, department=company.departments[person.department])
        company.people[person.email] = (person, user)
    for name, department in company.departments.items():
        department.head = company.head(name)[1]
        department.save()


def _filed_at(company: Company, department: str) -> dt.datetime:
    """A moment within the last 90 days when the department's office was open."""
    calendar = company.calendars[department]
    start = company.now - dt.timedelta(days=HISTORY_DAYS)
    while True:
        at = start + dt.timedelta(minutes=company.rng.randrange(HISTORY_DAYS * 24 * 60))
        if calendar.is_working_time(at) or company.rng.random() < 0.03:  # a few come in out of hours
            return at.replace(second=0, microsecond=0)


def _fill(company: Company, text: str, language: str) -> str:
    fillers = FILLERS[language]
    rng = company.rng
    return text.format(
        asset=f"LT-{rng.randrange(100, 999)}", desk=f"{rng.randrange(1, 5)}.{rng.randrange(1, 40):02d}",
        invoice=f"{company.now.year}-{rng.randrange(1000, 9999)}", order=f"SO-{rng.randrange(10000, 99999)}",
        amount=f"{rng.randrange(120, 4800)}", customer=rng.choice(fillers.get("customer", FILLERS["en"]["customer"])),
        supplier=rng.choice(fillers.get("supplier", FILLERS["en"]["supplier"])),
        newhire=rng.choice(fillers.get("newhire", FILLERS["en"]["newhire"])))


def _story(company: Company) -> Story:
    """File one request and live through its history, up to now."""
    rng, now = company.rng, company.now
    department = rng.choices(list(DEPARTMENTS), [share for _, share in DEPARTMENTS.values()])[0]
    language, title, description = rng.choice(REQUESTS[department])
    reporter_person, reporter = company.reporter_for(department, language)
    filed = _filed_at(company, department)
    priority = rng.choices(list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values()))[0]
    due = company.calendars[department].add_working_hours(filed, SERVICE_HOURS[priority]) \
        if rng.random() < 0.85 else None
    task = Task(title=_fill(company, title, language)[:200], description=_fill(company, description, language),
                status="new", priority=priority, type="task", impact="", department=company.departments[department],
                reporter=reporter, assignee=None, due_at=due, fields={}, created_at=filed, updated_at=filed,
                version=1)
    story = Story(task)
    # How long this one waits at each step: most are handled promptly, a few linger for weeks.
    pace = rng.choice([1, 1, 1, 1, 1, 1.5, 2, 3, 8])
    head_person, head = company.head(department)
    step = filed

    def next_step(low: float, high: float) -> dt.datetime | None:
        """The next working step, ``low`` to ``high`` working hours on; None once it would be in the future."""
        nonlocal step
        step = company.later(department, step, low * pace, high * pace)
        return step if step <= now else None

    def soon(low: int, high: int) -> dt.datetime:
        """A few minutes after the last step (never after now)."""
        nonlocal step
        step = min(step + dt.timedelta(minutes=rng.randrange(low, high)), now)
        return step

    if (at := next_step(0.1, 3)) and rng.random() < 0.25:
        story.watch(at, head)  # the head keeps an eye on it
    worker_person, worker = company.worker_for(department, language)
    if not (at := next_step(0.2, 12)):  # waits in the department's queue until someone takes it
        return story
    story.assign(at, worker if rng.random() < 0.6 else head, worker)  # taken, or handed out by the head
    story.move(soon(1, 20), worker, "open")
    if rng.random() < 0.5:
        story.comment(soon(1, 20), worker, company.reply("take", language, worker_person))
    if not (at := next_step(0.2, 6)):
        return story
    story.move(at, worker, "in_progress")
    if rng.random() < 0.3:  # a question, or a part to wait for
        if rng.random() < 0.5:
            story.comment(at, worker, company.reply("question", language, worker_person))
            story.move(soon(1, 3), worker, "waiting")
            if not (at := next_step(1, 12)):
                return story
            story.comment(at, reporter, company.reply("answer", language, reporter_person))
        else:
            story.comment(at, worker, company.reply("waiting", language, worker_person))
            story.move(soon(1, 3), worker, "waiting")
            if not (at := next_step(8, 24)):
                return story
        story.move(soon(5, 90), worker, "in_progress")
    if rng.random() < 0.12 and len(company.staff(department)) > 1:  # handed over to a colleague
        if not (at := next_step(0.5, 6)):
            return story
        new_person, new_worker = company.worker_for(department, language, besides=worker)
        story.comment(at, worker, company.reply("handover", language, worker_person, name=new_worker.name))
        story.assign(soon(1, 3), worker, new_worker)
        worker_person, worker = new_person, new_worker
    for round_ in range(2):  # resolved, and once in a while reopened and resolved again
        if not (at := next_step(0.5, 16)):
            return story
        if rng.random() < 0.7:
            story.comment(at, worker, company.reply("resolved", language, worker_person))
        story.move(soon(1, 3), worker, "resolved")
        if round_ == 1 or rng.random() > 0.1:
            break
        if not (at := next_step(2, 20)):
            return story
        story.comment(at, reporter, company.reply("reopen", language, reporter_person))
        story.move(soon(10, 120), worker, "open")
        if not (at := next_step(0.2, 4)):
            return story
        story.move(at, worker, "in_progress")
    if rng.random() < 0.5 and (at := next_step(0.2, 6)):
        story.comment(at, reporter, company.reply("thanks", language, reporter_person))
    closer = company.rng.choice(company.staff(department, ("manager", "reviewer")) or [(head_person, head)])[1]
    if (at := next_step(4, 30)):
        story.move(at, closer, "closed")
    return story


def _write(stories: list[Story]) -> None:
    """Write every story's rows, numbering the tasks in the order they were filed."""
    stories.sort(key=lambda s: s.task.created_at)
    sequence, _ = Sequence.get_or_create(name="task", defaults={"value": 0})
    for number, story in enumerate(stories, start=sequence.value + 1):
        story.task.number = number
    tasks = [story.task for story in stories]
    columns = [f for f in Task._meta.sorted_fields if f.name != "id"]
    for task, row in zip(tasks, insert_rows(Task, [{f.name: getattr(task, f.name) for f in columns} for task in tasks],
                                                  returning=(Task.id,))):
        task.id = row[0]
    Sequence.update(value=sequence.value + len(stories)).where(Sequence.name == "task").execute()
    comments = [(story.task, at, author, body) for story in stories for at, author, body in story.comments]
    comment_rows = [{"task": task.id, "author": author, "body": body, "created_at": at}
                    for task, at, author, body in comments]
    comment_ids = [row[0] for row in insert_rows(Comment, comment_rows, returning=(Comment.id,))]
    insert_rows(TaskWatcher, [{"task": story.task.id, "user": user} for story in stories for _at, user in story.watchers])
    events = []
    for story in stories:
        task = story.task
        events.append((task, {"at": task.created_at, "actor": task.reporter, "kind": "created", "changes": {
            "title": [None, task.title], "status": [None, "new"], "priority": [None, task.priority],
            "department_id": [None, task.department_id], "assignee_id": [None, None],
            "due_at": [None, _iso(task.due_at)], "parent_id": [None, None]}}))
        events.extend((task, event) for event in story.events)
        events.extend((task, {"at": at, "actor": user, "kind": "watched", "changes": {"watcher_ids": [None, user.id]}})
                      for at, user in story.watchers)
    events.extend((task, {"at": at, "actor": author, "kind": "commented",
                          "changes": {"comment_id": [None, comment_id]}})
                  for (task, at, author, _body), comment_id in zip(comments, comment_ids))
    # The trail in the order it happened (entries of one moment in the order they were made).
    events.sort(key=lambda pair: pair[1]["at"])
    insert_rows(TaskEvent, [{"task_id": task.id, "task_number": task.number, **event} for task, event in events])

