-- AlterTable
ALTER TABLE "AlertRule" ADD COLUMN     "cluster" TEXT;
