from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        OTHER = "O", _("Other")
        UNKNOWN = "", _("Unknown")

    class Segment(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        BUSINESS = "business", _("Business")

    class VipLevel(models.TextChoices):
        NORMAL = "normal", _("Normal")
        SILVER = "silver", _("Silver")
        GOLD = "gold", _("Gold")
        DIAMOND = "diamond", _("Diamond")

    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    display_name = models.CharField(_("display name (masked)"), max_length=128, blank=True)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True, default="")
    city = models.CharField(_("city"), max_length=64, blank=True)
    segment = models.CharField(_("segment"), max_length=16, choices=Segment.choices, default=Segment.PERSONAL)
    vip_level = models.CharField(_("VIP level"), max_length=16, choices=VipLevel.choices, default=VipLevel.NORMAL)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(age__isnull=True) | models.Q(age__lte=130), name="customer_age_range"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.external_id
